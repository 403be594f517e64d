import { readFileSync } from 'node:fs';
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { chromiumPath, ConsoleBrowser, eventually, heading } from './support/console-browser.js';
import { dialects } from './support/databases.js';
import type { Harness, Login } from './support/harness.js';
import { Receiver, verify } from './support/webhook-receiver.js';

/** The console's pages in Chromium (test/support/console-browser.ts); the contact form's details in console-details.test.ts. */
describe.skipIf(!chromiumPath)(
  'console in a browser (chromium is installed by .ci/run)',
  { timeout: 60_000 },
  () => {
    for (const dialect of dialects) {
      describe(dialect, () => {
        const run = new ConsoleBrowser(dialect, dialects[0]!);
        let h: Harness;
        let viewer: Login;
        /** The owner's page, signed in once: each test goes on from where the last left it. */
        let page: Page;
        const { accessible, screenshot } = run;
        const signedIn = (login: Login) => run.signedIn(login);
        const open = async (link: string, title: string) => {
          await page.getByRole('navigation').getByRole('link', { name: link }).click();
          await eventually(() => heading(page).textContent()).toBe(title);
        };

        beforeAll(async () => {
          // The delivery worker runs, for the webhooks page's test events.
          await run.start({ deliveries: { retryScheduleMs: [200, 200], timeoutMs: 2_000 } });
          h = run.h;
          viewer = await h.a.addUser('viewer');
          page = await signedIn(h.a.owner);
        });
        afterAll(() => run.close());

        it('signs in with the keyboard alone, keeps the session over a reload, and signs out', async () => {
          const { page, context } = await run.newPage();
          await page.goto('/');
          await eventually(() => heading(page).textContent()).toBe('Sign in to Roster');
          await accessible(page);
          await screenshot(page, 'sign-in');
          // The heading holds the focus on arrival; Tab goes to Username, then Password; Enter submits.
          await eventually(() => page.evaluate(() => document.activeElement?.tagName)).toBe('H1');
          await page.keyboard.press('Tab');
          await page.keyboard.type(h.a.owner.username);
          await page.keyboard.press('Tab');
          await page.keyboard.type('wrong password');
          await page.keyboard.press('Enter');
          await eventually(() => page.getByRole('alert').textContent()).toBe('Invalid username or password');
          expect(await page.getByLabel('Username').inputValue()).toBe(h.a.owner.username);
          await page.getByLabel('Password').fill('');
          await page.getByLabel('Password').focus();
          await page.keyboard.type(h.a.owner.password);
          await page.keyboard.press('Enter');
          await eventually(() => heading(page).textContent()).toBe('Contacts');
          // The refresh token is in an HttpOnly cookie, out of reach of the page's scripts.
          expect(await page.evaluate(() => document.cookie)).toBe('');
          const cookie = (await context.cookies()).find((c) => c.name === 'roster_session')!;
          expect(cookie).toMatchObject({ httpOnly: true, sameSite: 'Strict', path: '/v1/console/session' });

          await page.reload();
          await eventually(() => heading(page).textContent()).toBe('Contacts');
          await page.getByRole('button', { name: 'Sign out' }).click();
          await eventually(() => heading(page).textContent()).toBe('Sign in to Roster');
          await page.reload();
          await eventually(() => heading(page).textContent()).toBe('Sign in to Roster');
        });

        it('creates, edits, deletes and restores a contact', async () => {
          await open('Contacts', 'Contacts');
          await page.getByRole('link', { name: 'New contact' }).click();
          await page.getByLabel('First name').fill('Ada');
          await page.getByLabel('Last name').fill('Lovelace');
          await page.getByRole('group', { name: 'Phone 1' }).getByLabel('Number').fill('0412 345 678');
          await page.getByRole('group', { name: 'Email 1' }).getByLabel('Address').fill('ada@example.com');
          await page.getByLabel('Consent by sms').selectOption('subscribed');
          await page.getByRole('button', { name: 'Create contact' }).click();
          await eventually(() => heading(page).textContent()).toBe('Ada Lovelace');
          const id = page.url().split('/').pop()!;
          expect(await page.locator('.phone-detail').textContent()).toBe(
            'Stored as +61412345678 (valid) · entered as “0412 345 678”',
          );
          expect(await page.locator('.consent-row').first().textContent()).toContain(
            'subscribed via console',
          );
          await accessible(page);

          await page.getByLabel('Company').fill('Analytical Engines');
          await page.getByLabel('Custom fields (JSON)').fill('{"city": "London"}');
          await page.getByRole('button', { name: 'Save' }).click();
          await eventually(() => page.getByText('Saved.').count()).toBe(1);
          const api = await h.request({
            method: 'GET',
            url: `/v1/contacts/${id}`,
            headers: { authorization: h.a.owner.basic },
          });
          expect(api.json()).toMatchObject({
            company: 'Analytical Engines',
            custom: { city: 'London' },
            version: 2,
          });

          await page.getByRole('button', { name: 'Delete' }).click();
          await eventually(() => page.getByText(/^Deleted on/).count()).toBe(1);
          await page.getByRole('button', { name: 'Restore' }).click();
          await eventually(() => page.getByText('Restored.').count()).toBe(1);
          const after = await h.request({
            method: 'GET',
            url: `/v1/contacts/${id}`,
            headers: { authorization: h.a.owner.basic },
          });
          expect(after.json().deleted_at).toBeNull();
          // The contact's history (issue 18's log), newest first, each change by the signed-in user.
          const history = page.getByRole('region', { name: 'History' });
          await eventually(() => history.locator('li strong').allTextContents()).toEqual(
            expect.arrayContaining(['Restored', 'Deleted', 'Changed', 'Created']),
          );
          const kinds = await history.locator('li strong').allTextContents();
          expect(kinds.slice(0, 3)).toEqual(['Restored', 'Deleted', 'Changed']);
          expect(kinds.at(-1)).toBe('Created');
          const changed = history.locator('li').nth(2);
          expect(await changed.locator('tr', { hasText: 'company' }).locator('td').allTextContents()).toEqual(
            ['—', 'Analytical Engines'],
          );
          expect(await changed.locator('.meta').textContent()).toBe('by you with a session, through the API');
          await accessible(page);
        });

        it('shows "changed by someone else" on a 412, with the current values, and reapplies', async () => {
          const created = await h.request({
            method: 'POST',
            url: '/v1/contacts',
            headers: { authorization: h.a.owner.basic },
            payload: { name: 'Grace Hopper', company: 'Navy' },
          });
          const id = created.json().id as string;
          const [first, second] = [page, await signedIn(h.a.owner)];
          for (const page of [first, second]) await page.goto(`/contacts/${id}`);
          for (const page of [first, second])
            await eventually(() => heading(page).textContent()).toBe('Grace Hopper');
          await first.getByLabel('Company').fill('Harvard');
          await first.getByRole('button', { name: 'Save' }).click();
          await eventually(() => first.getByText('Saved.').count()).toBe(1);

          await second.getByLabel('Company').fill('Remington Rand');
          await second.getByRole('button', { name: 'Save' }).click();
          const conflict = second.locator('.conflict');
          await eventually(() => conflict.getByRole('heading').textContent()).toBe('Changed by someone else');
          expect(await conflict.textContent()).toContain('Harvard');
          expect(await second.getByLabel('Company').inputValue()).toBe('Remington Rand');
          await second.getByRole('button', { name: 'Reapply my changes' }).click();
          await eventually(() => second.getByText('Saved.').count()).toBe(1);
          const api = await h.request({
            method: 'GET',
            url: `/v1/contacts/${id}`,
            headers: { authorization: h.a.owner.basic },
          });
          expect(api.json()).toMatchObject({ company: 'Remington Rand', version: 3 });
        });

        it('searches as you type, and exports what the filter shows', async () => {
          for (const name of ['Zelda Fitzgerald', 'Zora Neale Hurston', 'Virginia Woolf'])
            await h.request({
              method: 'POST',
              url: '/v1/contacts',
              headers: { authorization: h.a.owner.basic },
              payload: { name },
            });
          await open('Contacts', 'Contacts');
          await screenshot(page, 'contacts');
          await accessible(page);
          await page.getByLabel('Search').fill('zel');
          const rows = page.locator('.contact-row .name');
          await eventually(() => rows.allTextContents()).toEqual(['Zelda Fitzgerald']);
          const download = page.waitForEvent('download');
          await page.getByRole('button', { name: 'CSV' }).click();
          const file = readFileSync((await (await download).path())!, 'utf8');
          const lines = file.trim().split('\n');
          expect(lines[0]).toMatch(/^id,name,/);
          expect(lines.slice(1).map((l) => l.split(',')[1])).toEqual(['Zelda Fitzgerald']);
        });

        it('moves through the contacts list with the keyboard: one row in the tab order, arrows, Home, End', async () => {
          await open('Contacts', 'Contacts');
          await page.getByLabel('Search').fill('');
          const rows = page.locator('.contact-row');
          await eventually(() => rows.count()).toBeGreaterThan(3);
          expect(await page.locator('.contact-row[tabindex="0"]').count()).toBe(1);
          const names = await page.locator('.contact-row .name').allTextContents();
          const focused = () =>
            page.evaluate(() => document.activeElement?.querySelector('.name')?.textContent);
          await page.getByLabel('Sort').focus();
          await page.keyboard.press('Tab'); // past the export buttons to the list's row
          for (let i = 0; i < 3 && !(await focused()); i++) await page.keyboard.press('Tab');
          await eventually(focused).toBe(names[0]);
          await page.keyboard.press('ArrowDown');
          await eventually(focused).toBe(names[1]);
          await page.keyboard.press('End');
          await eventually(focused).toBe(names.at(-1));
          await page.keyboard.press('Home');
          await eventually(focused).toBe(names[0]);
          await page.keyboard.press('ArrowDown');
          await eventually(focused).toBe(names[1]);
          await page.keyboard.press('Enter');
          await eventually(() => heading(page).textContent()).toBe(names[1]);
        });

        it('finds duplicates, compares them side by side, previews and merges, and undoes the merge', async () => {
          const kept = await h.a.contact({
            first_name: 'Ada',
            last_name: 'Byron',
            email: 'ada.byron@example.com',
            phone: '0412 777 001',
            consent: { sms: 'subscribed' },
          });
          const twin = await h.a.contact({
            name: 'ada byron',
            email: 'ADA.BYRON@example.com',
            phone: '0412 777 002',
            company: 'Analytical Engines',
            consent: { sms: { status: 'unsubscribed', source: 'sms:STOP' } },
          });
          await open('Duplicates', 'Duplicates');
          const compare = page.getByRole('link', { name: /^Compare: .*Same email: ada\.byron@example\.com/ });
          await eventually(() => compare.count()).toBe(1);
          await accessible(page);
          await screenshot(page, 'duplicates');
          await compare.click();
          await eventually(() => heading(page).textContent()).toBe('Compare duplicates');
          const table = page.locator('table.compare');
          await eventually(() => table.locator('thead a').allTextContents()).toEqual([
            'Ada Byron',
            'ada byron',
          ]);
          await page.getByLabel('use contact 2’s phone').check();
          await page.getByRole('button', { name: 'Preview merge' }).click();
          const preview = page.locator('section.notice');
          await eventually(() => preview.getByRole('heading').textContent()).toBe(
            'After the merge (preview)',
          );
          const facts = await preview.locator('.fact').allTextContents();
          expect(facts).toEqual(
            expect.arrayContaining([
              'NameAda Byron (from contact 1)',
              'Phone+61412777002 (from contact 2)',
              'CompanyAnalytical Engines (from contact 2)',
              'Consent by smsunsubscribed via sms:STOP (from contact 2)',
            ]),
          );
          // The preview wrote nothing.
          const twinBefore = await h.a.send('GET', `/v1/contacts/${twin.id}`);
          expect(twinBefore.statusCode).toBe(200);
          await accessible(page);
          await screenshot(page, 'compare');

          // Someone changes the kept contact after the preview: the merge meets a 412, the choices stay.
          await h.a.send('PATCH', `/v1/contacts/${kept.id}`, { language: 'en' });
          await page.getByRole('button', { name: 'Merge 1 into contact 1' }).click();
          await eventually(() => page.getByRole('alert').textContent()).toBe(
            'Changed by someone else since you opened it: compare again.',
          );
          await eventually(() => table.getByText('en', { exact: true }).count()).toBe(1);
          expect(await page.getByLabel('use contact 2’s phone').isChecked()).toBe(true);
          await page.getByRole('button', { name: 'Preview merge' }).click();
          await page.getByRole('button', { name: 'Merge 1 into contact 1' }).click();
          await eventually(() => page.getByRole('status').textContent()).toBe('1 merged into Ada Byron');
          const merged = await h.a.send('GET', `/v1/contacts/${twin.id}`);
          expect(merged.statusCode).toBe(404);
          expect(merged.json().merged_into).toBe(kept.id);
          const survivor = await h.a.send('GET', `/v1/contacts/${kept.id}`);
          expect(survivor.json()).toMatchObject({ phone: '+61412777002', company: 'Analytical Engines' });

          await page.getByRole('button', { name: 'Undo merge' }).click();
          await eventually(() => page.getByRole('heading', { name: 'Merge undone' }).count()).toBe(1);
          const back = await h.a.send('GET', `/v1/contacts/${twin.id}`);
          expect(back.json()).toMatchObject({ phone: '+61412777002', deleted_at: null });
          const restored = await h.a.send('GET', `/v1/contacts/${kept.id}`);
          expect(restored.json()).toMatchObject({ phone: '+61412777001', company: null, language: 'en' });
        });

        it('manages a group and its members', async () => {
          await open('Groups', 'Groups');
          await page.getByLabel('Name', { exact: true }).fill('Volunteers');
          await page.getByLabel('Description').fill('Sunday crew');
          await page.getByRole('button', { name: 'Create group' }).click();
          await eventually(() => heading(page).textContent()).toBe('Volunteers');
          await page.getByLabel('Find contacts to add').fill('virginia');
          await page.getByRole('button', { name: 'Add Virginia Woolf' }).click();
          await expect
            .poll(() => page.locator('.members li').allTextContents())
            .toEqual([expect.stringContaining('Virginia Woolf')]);
          await page.getByLabel('Find contacts to add').fill('zora');
          await page.getByRole('button', { name: 'Add Zora Neale Hurston' }).click();
          await expect
            .poll(() => page.locator('.members a').allTextContents())
            .toEqual(['Virginia Woolf', 'Zora Neale Hurston']);
          await eventually(() => page.locator('.count').textContent()).toBe('2 members');
          // The rest by a server-side job: every contact whose name has a word starting with "z".
          await page.getByLabel('Find contacts to add').fill('z');
          await page.getByRole('button', { name: 'Add all contacts matching “z”' }).click();
          await eventually(() => page.locator('.job').textContent()).toBe(
            'Done: 2 matching contacts read, 1 added. ',
          );
          await eventually(() => page.locator('.count').textContent()).toBe('3 members');
          const history = page.getByRole('region', { name: 'History' });
          await eventually(() => history.locator('li strong').allTextContents()).toEqual(
            expect.arrayContaining(['Members added', 'Created']),
          );
          await accessible(page);
          await screenshot(page, 'group');
          await page.getByLabel('Select Virginia Woolf').check();
          await page.getByRole('button', { name: 'Remove selected (1)' }).click();
          await eventually(() => page.locator('.members a').allTextContents()).toEqual([
            'Zelda Fitzgerald',
            'Zora Neale Hurston',
          ]);

          await open('Groups', 'Groups');
          await eventually(() => page.getByRole('link', { name: 'Volunteers' }).count()).toBe(1);
          await accessible(page);
        });

        it('imports a CSV: a dry-run preview, the run with its report, and the rejected rows', async () => {
          await open('Import', 'Import contacts');
          const csv =
            'First Name,Last Name,Mobile,Email\nAlan,Turing,+44 20 7946 0958,alan@example.com\n,,,not an email\nMary,Somerville,0412 000 111,\n';
          await page
            .getByLabel(/^File/)
            .setInputFiles({ name: 'people.csv', mimeType: 'text/csv', buffer: Buffer.from(csv) });
          await expect
            .poll(() => page.getByRole('group', { name: 'Columns' }).getByRole('combobox').count())
            .toBe(4);
          await page.getByRole('button', { name: 'Preview (dry run)' }).click();
          const report = page.locator('table.report tbody td');
          await eventually(() => page.getByText(/^completed · 100%/).count()).toBe(1);
          expect(await report.allTextContents()).toEqual(['2', '0', '0', '0', '1']);
          expect(await page.getByRole('heading', { level: 2 }).textContent()).toContain(
            'detected format: csv',
          );
          await accessible(page);
          await page.getByRole('button', { name: 'Run import' }).click();
          await expect
            .poll(() => page.locator('table.report caption').textContent())
            .toBe('What the import did');
          await eventually(() => page.getByText(/^completed · 100% · 3 rows/).count()).toBe(1);
          expect(await report.allTextContents()).toEqual(['2', '0', '0', '0', '1']);
          await screenshot(page, 'import');
          const download = page.waitForEvent('download');
          await page.getByRole('button', { name: 'Download rejected rows' }).click();
          const rejected = readFileSync((await (await download).path())!, 'utf8');
          expect(rejected).toContain(',,,not an email');
          await page.getByRole('button', { name: 'Roll back' }).click();
          await eventually(() => page.getByText(/^Rolled back 2 rows/).count()).toBe(1);
        });

        it('administration: organisation settings, users and an API key shown once', async () => {
          await open('Administration', 'Administration');
          await eventually(() => heading(page).textContent()).toBe('Administration');
          await page.getByLabel('Key name').fill('CRM sync');
          await page.getByRole('button', { name: 'Create API key' }).click();
          const secret = await page.locator('.secret').textContent();
          expect(secret).toMatch(/^rst_/);
          const check = await h.request({
            method: 'GET',
            url: '/v1/organisation',
            headers: { authorization: `Bearer ${secret}` },
          });
          expect(check.statusCode).toBe(200);
          await accessible(page);
          await screenshot(page, 'admin');
          await page.getByRole('button', { name: 'Revoke CRM sync' }).click();
          await eventually(() => page.getByText(/^revoked/).count()).toBe(1);
          const revoked = await h.request({
            method: 'GET',
            url: '/v1/organisation',
            headers: { authorization: `Bearer ${secret}` },
          });
          expect(revoked.statusCode).toBe(401);
        });

        it('webhooks: an endpoint added (its secret shown once), a test event delivered and redelivered, the secret rotated, disabled, removed', async () => {
          const receiver = new Receiver();
          await receiver.start();
          try {
            await open('Webhooks', 'Webhooks');
            await page.getByLabel('Endpoint URL').fill(receiver.url);
            await page.getByLabel('Events').fill('contact.created, contact.updated');
            await page.getByLabel('Description').fill('CRM mirror');
            await page.getByRole('button', { name: 'Add endpoint' }).click();
            await eventually(() => page.locator('.secret').count()).toBe(1);
            const secret = (await page.locator('.secret').textContent())!;
            expect(secret).toMatch(/^whsec_/);
            await eventually(() => page.getByRole('link', { name: receiver.url }).count()).toBe(1);
            await accessible(page);
            await screenshot(page, 'webhooks');

            await page.getByRole('button', { name: `Send a test event to ${receiver.url}` }).click();
            const [first] = await receiver.waitFor(1);
            expect(verify(secret, first!).type).toBe('webhook.test');
            await page.getByRole('link', { name: receiver.url }).click();
            await eventually(() => heading(page).textContent()).toBe(`Deliveries to ${receiver.url}`);
            const row = page.locator('table.deliveries tbody tr').first();
            await eventually(async () => {
              await page.getByRole('button', { name: 'Refresh' }).click();
              return row.locator('td').nth(1).textContent();
            }).toBe('delivered');
            await accessible(page);
            await row.getByRole('button', { name: /^Redeliver webhook\.test/ }).click();
            const [, again] = await receiver.waitFor(2);
            // The same delivery, so the same webhook-id, signed again.
            expect(again!.headers['webhook-id']).toBe(first!.headers['webhook-id']);
            expect(verify(secret, again!).type).toBe('webhook.test');

            await page.getByRole('link', { name: 'Back to the endpoints' }).click();
            await page.getByRole('button', { name: `Rotate the secret of ${receiver.url}` }).click();
            await eventually(() => page.locator('.secret').textContent()).not.toBe(secret);
            expect(await page.locator('.secret').textContent()).toMatch(/^whsec_/);
            await eventually(() => page.getByText(/^old secret signs until/).count()).toBe(1);
            await page.getByRole('button', { name: `Disable ${receiver.url}` }).click();
            await eventually(() => page.getByRole('button', { name: `Enable ${receiver.url}` }).count()).toBe(
              1,
            );
            const listed = (await h.a.send('GET', '/v1/webhooks')).json().items;
            expect(listed).toMatchObject([{ url: receiver.url, enabled: false, description: 'CRM mirror' }]);
            await page.getByRole('button', { name: `Remove ${receiver.url}` }).click();
            await eventually(() => page.getByRole('link', { name: receiver.url }).count()).toBe(0);
            expect((await h.a.send('GET', '/v1/webhooks')).json().items).toEqual([]);
          } finally {
            await receiver.close();
          }
        });

        it('offers a viewer no write controls', async () => {
          const page = await signedIn(viewer);
          expect(await page.getByRole('link', { name: 'New contact' }).count()).toBe(0);
          expect(await page.getByRole('link', { name: 'Import' }).count()).toBe(0);
          expect(await page.getByRole('link', { name: 'Webhooks' }).count()).toBe(0);
          await page.locator('.contact-row').first().click();
          await eventually(() => page.locator('.phone-detail').count()).toBe(1);
          for (const name of ['Save', 'Delete', 'Restore'])
            expect(await page.getByRole('button', { name }).count()).toBe(0);
          await page.getByRole('link', { name: 'Groups' }).click();
          expect(await page.getByRole('button', { name: 'Create group' }).count()).toBe(0);
          await page.getByRole('link', { name: 'Volunteers' }).click();
          await eventually(() => heading(page).textContent()).toBe('Volunteers');
          expect(await page.getByRole('button').allTextContents()).toEqual(['Sign out']);
          await page.getByRole('link', { name: 'Administration' }).click();
          await eventually(() => page.getByLabel('Organisation name').count()).toBe(1);
          expect(await page.getByRole('button').allTextContents()).toEqual(['Sign out']);
          await accessible(page);
          // Candidates to compare, and nothing to merge them with.
          await page.getByRole('link', { name: 'Duplicates' }).click();
          await page
            .getByRole('link', { name: /^Compare: / })
            .first()
            .click();
          await eventually(() => page.locator('table.compare thead a').count()).toBe(2);
          expect(await page.getByRole('button').allTextContents()).toEqual(['Sign out']);
          expect(await page.getByRole('radio').count()).toBe(0);
          await accessible(page);
        });

        it("gives not found for another organisation's contact", async () => {
          const theirs = await h.request({
            method: 'POST',
            url: '/v1/contacts',
            headers: { authorization: h.b.owner.basic },
            payload: { name: 'Somebody Else' },
          });

          await page.goto(`/contacts/${theirs.json().id}`);
          await eventually(() => page.getByRole('alert').textContent()).toBe('Contact not found');
          expect(await page.getByText('Somebody Else').count()).toBe(0);
          await page.goto(`/duplicates/compare?ids=${theirs.json().id}`);
          await eventually(() => page.locator('.notice').textContent()).toBe(
            '1 of this set was not found: merged or deleted since, or not of this organisation.',
          );
          expect(await page.getByText('Somebody Else').count()).toBe(0);
        });
      });
    }
  },
);
