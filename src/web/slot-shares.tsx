import type { SlotShare } from '../services/slot-planning';
import { useEnv } from './env';

/**
 * Each office's share of a channel's slots over the fair-share window: what it has had (published
 * or under way) and what it has booked, as the fair share weighs them when slots are scarce.
 */
export function SlotShares(props: { shares: SlotShare[]; windowDays: number }) {
  const { t } = useEnv();
  const total = props.shares.reduce((sum, s) => sum + s.used + s.booked, 0);
  return (
    <section class="card" aria-labelledby="shares-title" data-shares>
      <h2 id="shares-title">{t.slotShares.title(props.windowDays)}</h2>
      <p class="muted">{t.slotShares.hint}</p>
      {props.shares.length === 0 ? (
        <p class="muted">{t.slotShares.none}</p>
      ) : (
        <table>
          <thead>
            <tr>
              <th scope="col">{t.slotShares.office}</th>
              <th scope="col">{t.slotShares.used}</th>
              <th scope="col">{t.slotShares.booked}</th>
              <th scope="col">{t.slotShares.share}</th>
            </tr>
          </thead>
          <tbody>
            {props.shares.map((share) => (
              <tr data-share={share.unit.id}>
                <td>{share.unit.name}</td>
                <td data-used>{share.used}</td>
                <td data-booked>{share.booked}</td>
                <td>{Math.round(((share.used + share.booked) / total) * 100)} %</td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </section>
  );
}
