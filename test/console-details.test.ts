import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { chromiumPath, ConsoleBrowser, eventually, heading } from './support/console-browser.js';
import { dialects } from './support/databases.js';
import type { Harness } from './support/harness.js';
import { importer } from './support/imports.js';

/** The contact form's richer model (issue 17) in Chromium: several numbers, addresses, dates, links; refusals beside their row. */
describe.skipIf(!chromiumPath)(
  'console: a contact’s numbers, addresses and dates (chromium is installed by .ci/run)',
  { timeout: 90_000 },
  () => {
    for (const dialect of dialects) {
      describe(dialect, () => {
        const run = new ConsoleBrowser(dialect, dialects[0]!);
        let h: Harness;
        let page: Page;
        const row = (name: string) => page.getByRole('group', { name, exact: true });
        const labelOf = (name: string) => row(name).getByLabel('Label', { exact: true });
        const save = async () => {
          await page.getByRole('button', { name: 'Save' }).click();
        };
        const saved = () => eventually(() => page.getByText('Saved.').count()).toBe(1);
        const read = async (id: string) => (await h.a.send('GET', `/v1/contacts/${id}`)).json();

        beforeAll(async () => {
          await run.start();
          h = run.h;
          page = await run.signedIn(h.a.owner);
        });
        afterAll(() => run.close());

        it('creates a contact with two numbers, an address, a birthday and a link; a reload shows them; the primary changes', async () => {
          await page.getByRole('link', { name: 'New contact' }).click();
          await eventually(() => heading(page).textContent()).toBe('New contact');
          await page.getByLabel('First name').fill('Mary');
          await page.getByLabel('Last name').fill('Jackson');
          await page.getByLabel('Job title').fill('Engineer');
          await page.getByLabel('Department').fill('Aeronautics');
          await labelOf('Phone 1').selectOption('mobile');
          await row('Phone 1').getByLabel('Number').fill('0412 555 001');
          // By keyboard: Enter on "Add phone" puts the focus in the new row's number.
          await page.getByRole('button', { name: 'Add phone' }).focus();
          await page.keyboard.press('Enter');
          const focusedRow = () =>
            page.evaluate(() => document.activeElement?.closest('[role=group]')?.getAttribute('aria-label'));
          await eventually(focusedRow).toBe('Phone 2');
          await page.keyboard.type('(02) 9374 4001');
          await labelOf('Phone 2').selectOption('work');
          await row('Email 1').getByLabel('Address').fill('mary@example.com');
          await page.getByRole('button', { name: 'Add address' }).click();
          await row('Address 1').getByLabel('Street').fill('1 Langley Road');
          await row('Address 1').getByLabel('City or town').fill('Hampton');
          await row('Address 1').getByLabel('State or region').fill('VA');
          await row('Address 1').getByLabel('Postal code').fill('23681');
          await row('Address 1').getByLabel('Country').fill('US');
          await page.getByRole('button', { name: 'Add date' }).click();
          await row('Date 1').getByLabel('Day').fill('9');
          await row('Date 1').getByLabel('Month').selectOption({ label: 'April' });
          await row('Date 1').getByLabel('Year (optional)').fill('1921');
          await page.getByRole('button', { name: 'Add link' }).click();
          await labelOf('Link 1').selectOption({ label: 'Custom…' });
          await row('Link 1').getByLabel('Custom label').fill('Portfolio');
          await row('Link 1').getByLabel('Link', { exact: true }).fill('https://example.com/mary');
          await page.getByLabel('Notes').fill('Wind tunnel\nSecond line');
          await page.getByRole('button', { name: 'Create contact' }).click();
          await eventually(() => heading(page).textContent()).toBe('Mary Jackson');
          const id = page.url().split('/').pop()!;
          expect(await read(id)).toMatchObject({
            title: 'Engineer',
            department: 'Aeronautics',
            phone: '+61412555001',
            phones: [
              { number: '+61412555001', raw: '0412 555 001', label: 'mobile', primary: true, valid: true },
              { number: '+61293744001', raw: '(02) 9374 4001', label: 'work', primary: false },
            ],
            email: 'mary@example.com',
            addresses: [
              {
                label: 'home',
                street: '1 Langley Road',
                locality: 'Hampton',
                region: 'VA',
                postal_code: '23681',
                country: 'US',
              },
            ],
            dates: [{ label: 'birthday', date: '1921-04-09' }],
            urls: [{ url: 'https://example.com/mary', label: 'Portfolio' }],
            notes: 'Wind tunnel\nSecond line',
          });

          await page.reload();
          await eventually(() => heading(page).textContent()).toBe('Mary Jackson');
          expect(await row('Phone 1').getByLabel('Number').inputValue()).toBe('0412 555 001');
          expect(await row('Phone 1').getByLabel('Primary').isChecked()).toBe(true);
          expect(await row('Phone 2').getByLabel('Number').inputValue()).toBe('(02) 9374 4001');
          expect(await labelOf('Phone 2').inputValue()).toBe('work');
          expect(await page.locator('.phone-detail').allTextContents()).toEqual([
            'Stored as +61412555001 (valid) · entered as “0412 555 001”',
            'Stored as +61293744001 (valid) · entered as “(02) 9374 4001”',
          ]);
          expect(await row('Address 1').getByLabel('Street').inputValue()).toBe('1 Langley Road');
          expect(await row('Date 1').getByLabel('Day').inputValue()).toBe('9');
          expect(await row('Date 1').getByLabel('Month').inputValue()).toBe('04');
          expect(await row('Date 1').getByLabel('Year (optional)').inputValue()).toBe('1921');
          expect(await row('Link 1').getByLabel('Custom label').inputValue()).toBe('Portfolio');
          expect(await page.getByLabel('Notes').inputValue()).toBe('Wind tunnel\nSecond line');
          await run.accessible(page);
          await run.screenshot(page, 'contact');

          // Removing a row leaves the focus on its list's Add button.
          await page.getByRole('button', { name: 'Add link' }).click();
          await page.getByRole('button', { name: 'Remove link 2' }).click();
          await eventually(() => page.evaluate(() => document.activeElement?.textContent)).toBe('Add link');

          // The work number becomes the primary one: phone follows it, and it is listed first.
          await row('Phone 2').getByLabel('Primary').check();
          await save();
          await saved();
          const after = await read(id);
          expect(after.phone).toBe('+61293744001');
          expect(
            after.phones.map((p: { number: string; primary: boolean }) => [p.number, p.primary]),
          ).toEqual([
            ['+61293744001', true],
            ['+61412555001', false],
          ]);
          expect(await row('Phone 1').getByLabel('Number').inputValue()).toBe('(02) 9374 4001');
          expect(await row('Phone 1').getByLabel('Primary').isChecked()).toBe(true);
          // The history tells the numbers in words, not as JSON.
          const change = page.getByRole('region', { name: 'History' }).locator('li').first();
          await eventually(() =>
            change.locator('tr', { hasText: 'phones' }).locator('td').last().innerText(),
          ).toBe('Work: +61293744001\nMobile: +61412555001');

          // The list shows the job and how many more numbers, from the page it reads (no request per row).
          await page.getByRole('navigation').getByRole('link', { name: 'Contacts' }).click();
          const listed = page.locator('.contact-row', { hasText: 'Mary Jackson' });
          await eventually(() => listed.locator('.role').textContent()).toBe('Engineer');
          expect(await listed.locator('.phone').textContent()).toBe('+61293744001 +1 more');
        });

        it('shows a refused date beside its row, keeps the form, and saves once it is a day of the calendar', async () => {
          const mary = (await h.a.send('GET', '/v1/contacts?q=mary')).json().items[0];
          await page.goto(`/contacts/${mary.id}`);
          await eventually(() => heading(page).textContent()).toBe('Mary Jackson');
          await page.getByRole('button', { name: 'Add date' }).click();
          await labelOf('Date 2').selectOption('anniversary');
          await row('Date 2').getByLabel('Day').fill('30');
          await row('Date 2').getByLabel('Month').selectOption({ label: 'February' });
          await save();
          const error = row('Date 2').locator('.field-error');
          await eventually(() => error.textContent()).toBe(
            'Must be a date YYYY-MM-DD, or --MM-DD without a year.',
          );
          expect(await row('Date 2').getByLabel('Day').getAttribute('aria-invalid')).toBe('true');
          expect(await row('Date 1').locator('.field-error').count()).toBe(0);
          expect((await read(mary.id)).dates).toHaveLength(1);
          await run.accessible(page);

          // A year of two digits is refused by the schema, in the same words: beside the row too.
          await row('Date 2').getByLabel('Day').fill('28');
          await row('Date 2').getByLabel('Year (optional)').fill('61');
          await save();
          await eventually(() => error.count()).toBe(1);
          expect(await error.textContent()).toBe('Must be a date YYYY-MM-DD, or --MM-DD without a year.');

          await row('Date 2').getByLabel('Year (optional)').fill('');
          await save();
          await saved();
          expect((await read(mary.id)).dates).toEqual([
            { label: 'birthday', date: '1921-04-09' },
            { label: 'anniversary', date: '--02-28' },
          ]);
          expect(await error.count()).toBe(0);
        });

        it('links a number another contact holds (409 duplicate_phone) to that contact', async () => {
          const holder = await h.a.contact({ name: 'Dorothy Vaughan', phone: '0412 555 777' });
          const mary = (await h.a.send('GET', '/v1/contacts?q=mary')).json().items[0];
          await page.goto(`/contacts/${mary.id}`);
          await eventually(() => heading(page).textContent()).toBe('Mary Jackson');
          // A number that cannot be one is refused beside its own row, the others untouched.
          await page.getByRole('button', { name: 'Add phone' }).click();
          await row('Phone 3').getByLabel('Number').fill('0412 CALL ME');
          await save();
          await eventually(() => row('Phone 3').locator('.field-error').textContent()).toBe(
            'May contain only digits, spaces, +, -, ., /, ( and ).',
          );
          expect(await page.locator('.field-error').count()).toBe(1);
          await page.getByRole('button', { name: 'Remove phone 3' }).click();

          // Any of a contact's numbers, not only the primary one: refused beside the row that holds it.
          await row('Phone 2').getByLabel('Number').fill('0412 555 777');
          await save();
          await eventually(() => row('Phone 2').locator('.field-error').textContent()).toBe(
            'Belongs to another contact. Open the contact that has it',
          );
          await row('Phone 2').getByLabel('Number').fill('0412 555 001');

          await row('Phone 1').getByLabel('Number').fill('0412 555 777');
          await save();
          const error = row('Phone 1').locator('.field-error');
          await eventually(() => error.textContent()).toBe(
            'Belongs to another contact. Open the contact that has it',
          );
          expect(await row('Phone 1').getByLabel('Number').inputValue()).toBe('0412 555 777');
          await error.getByRole('link', { name: 'Open the contact that has it' }).click();
          await eventually(() => heading(page).textContent()).toBe('Dorothy Vaughan');
          expect(page.url()).toMatch(new RegExp(`/contacts/${holder.id}$`));
        });

        it('shows a number an import could not read with its text and a mark, and keeps it when others change', async () => {
          const job = await importer(h).importFile('name,phone\nShort Code,112\n', 'format=csv');
          expect(job.status).toBe('completed');
          const [kept] = (await h.a.send('GET', '/v1/contacts?q=short')).json().items;
          await page.goto(`/contacts/${kept.id}`);
          await eventually(() => heading(page).textContent()).toBe('Short Code');
          expect(await row('Phone 1').getByLabel('Number').inputValue()).toBe('112');
          expect(await row('Phone 1').locator('.phone-detail').textContent()).toBe(
            'Not read: kept as written; correct it or leave it.',
          );
          await page.getByRole('button', { name: 'Add phone' }).click();
          await row('Phone 2').getByLabel('Number').fill('0412 555 990');
          // A custom label typed key by key keeps its input while it reads "Work", a usual word, on the way.
          await labelOf('Phone 2').selectOption({ label: 'Custom…' });
          await row('Phone 2').getByLabel('Custom label').pressSequentially('Work line');
          await save();
          await saved();
          await page.getByRole('navigation').getByRole('link', { name: 'Contacts' }).click();
          const listed = page.locator('.contact-row', { hasText: 'Short Code' });
          await eventually(() => listed.locator('.phone').textContent()).toBe('112 (not read) +1 more');
          expect((await read(kept.id)).phones).toMatchObject([
            { number: null, raw: '112', valid: false, primary: true },
            { number: '+61412555990', raw: '0412 555 990', label: 'Work line', primary: false },
          ]);
        });

        it('compares duplicates with every number, email and address of each side', async () => {
          const one = await h.a.contact({
            name: 'Katherine Johnson',
            title: 'Mathematician',
            emails: [{ address: 'kj@example.com' }, { address: 'katherine@example.org', label: 'home' }],
            phones: [{ number: '0412 555 301', label: 'mobile' }],
            addresses: [{ label: 'work', street: '1 NASA Drive', locality: 'Hampton' }],
          });
          const two = await h.a.contact({
            name: 'katherine johnson',
            title: 'Research mathematician',
            email: 'KJ@example.com',
            phones: [{ number: '0412 555 302' }, { number: '0412 555 303', label: 'fax' }],
          });
          await page.goto(`/duplicates/compare?ids=${one.id},${two.id}`);
          await eventually(() => heading(page).textContent()).toBe('Compare duplicates');
          const cells = (name: string) =>
            page
              .locator('table.compare tr', { has: page.getByRole('rowheader', { name, exact: true }) })
              .locator('td');
          await eventually(() => cells('Phone numbers').allInnerTexts()).toEqual([
            'Mobile: +61412555301 · primary',
            '+61412555302 · primary\nFax: +61412555303',
          ]);
          expect(await cells('Email addresses').allInnerTexts()).toEqual([
            'kj@example.com · primary\nHome: katherine@example.org',
            'kj@example.com · primary',
          ]);
          expect(await cells('Addresses').allInnerTexts()).toEqual(['Work: 1 NASA Drive, Hampton', '']);
          await run.accessible(page);

          // A job title is chosen; the numbers, emails and addresses of both are united, as the preview shows.
          await page.getByLabel('use contact 2’s job title').check();
          await page.getByRole('button', { name: 'Preview merge' }).click();
          const fact = (name: string) =>
            page.locator('section.notice .fact', {
              has: page.getByRole('term').getByText(name, { exact: true }),
            });
          await eventually(() => fact('Job title').locator('dd').innerText()).toBe(
            'Research mathematician (from contact 2)',
          );
          const numbers = await fact('Phone numbers').locator('dd li').allInnerTexts();
          expect(numbers.map((n) => n.match(/\+\d+/)?.[0]).sort()).toEqual([
            '+61412555301',
            '+61412555302',
            '+61412555303',
          ]);
          expect(await fact('Addresses').locator('dd').innerText()).toBe('Work: 1 NASA Drive, Hampton');
        });
      });
    }
  },
);
