import { useState } from 'preact/hooks';
import { api, must, type Candidates } from '../api';
import { usePages } from '../pages-hook';
import { Columns, ErrorText, PageTitle } from '../ui';

const KINDS: Record<Candidates['reasons'][number]['kind'], string> = {
  external_id: 'Same external id',
  email: 'Same email',
  phone: 'Same phone',
  name_company: 'Same name and company',
  name_email_domain: 'Same name and email domain',
};

/** A shared key in words: the stored keys are "name|company" and ["system","id"]. */
export function reasonText({ kind, value }: Candidates['reasons'][number]): string {
  if (kind === 'external_id') {
    const [system, id] = JSON.parse(value) as [string, string];
    return `${KINDS[kind]}: ${system} ${id}`;
  }
  return `${KINDS[kind]}: ${value.replace('|', ' · ')}`;
}

export const compareHref = (set: Pick<Candidates, 'contact_ids'>) =>
  `/duplicates/compare?${new URLSearchParams({ ids: set.contact_ids.join(',') })}`;

export function Duplicates() {
  const [minScore, setMinScore] = useState('');
  const list = usePages<Candidates>(
    async (cursor) =>
      must(
        await api.GET('/v1/duplicates', {
          params: { query: { limit: 50, cursor, min_score: minScore ? Number(minScore) : undefined } },
        }),
      ),
    [minScore],
  );
  return (
    <section>
      <PageTitle>Duplicates</PageTitle>
      <p>
        Contacts that share an email, a phone number (after country rules), an external id, or a name with a
        company or an email domain. Compare a set side by side, preview the merge and merge it; a merge can be
        undone.
      </p>
      <form class="filters" onSubmit={(e) => e.preventDefault()}>
        <label>
          Minimum score
          <select value={minScore} onChange={(e) => setMinScore(e.currentTarget.value)}>
            <option value="">Any</option>
            <option value="0.6">60%</option>
            <option value="0.75">75%</option>
            <option value="0.9">90%</option>
          </select>
        </label>
      </form>
      <ErrorText error={list.error} />
      <table class="table candidates">
        <caption class="count">
          {list.items.length.toLocaleString()}
          {list.hasMore ? '+' : ''} candidate {list.items.length === 1 && !list.hasMore ? 'set' : 'sets'}
        </caption>
        <Columns names={['Why', 'Score', 'Contacts']} action="Compare" />
        <tbody>
          {list.items.map((set) => (
            <tr key={set.contact_ids.join()}>
              <td>
                <ul class="plain">
                  {set.reasons.map((r) => (
                    <li key={`${r.kind}:${r.value}`}>{reasonText(r)}</li>
                  ))}
                </ul>
              </td>
              <td>{Math.round(set.score * 100)}%</td>
              <td>{set.size.toLocaleString()}</td>
              <td>
                <a href={compareHref(set)} aria-label={`Compare: ${set.reasons.map(reasonText).join('; ')}`}>
                  Compare
                </a>
              </td>
            </tr>
          ))}
        </tbody>
      </table>
      {list.hasMore && (
        <button type="button" onClick={() => void list.more()}>
          Load more sets
        </button>
      )}
    </section>
  );
}
