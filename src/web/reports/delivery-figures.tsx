import type { Platform } from '../../domain/vocabulary';
import type { SnapshotView } from '../../services/delivery-metrics';
import { Csrf } from '../components';
import { useEnv } from '../env';
import { BarChart } from './charts';

/** What the post page knows about one delivery's figures. */
export interface DeliveryFiguresData {
  deliveryId: string;
  platform: Platform;
  /** The platform gives figures for a post at all. */
  measurable: boolean;
  snapshots: SnapshotView[];
}

const FIELDS = ['impressions', 'likes', 'reposts', 'replies', 'quotes', 'clicks'] as const;

/** A published delivery's snapshots as a small table and chart, with "refresh now". */
export function DeliveryFigures(props: { figures: DeliveryFiguresData; back: string }) {
  const { t, locale } = useEnv();
  const { figures } = props;
  if (!figures.measurable)
    return <p class="hint delivery-figures">{t.reports.notAvailable(t.platform[figures.platform])}</p>;
  const numbers = new Intl.NumberFormat(locale === 'id' ? 'id-ID' : 'en-GB');
  const label = (window: SnapshotView['window']) => t.post.snapshotWindows[window];
  return (
    <div class="delivery-figures">
      {figures.snapshots.length === 0 ? (
        <p class="hint">{t.post.noFiguresYet}</p>
      ) : (
        <>
          <div class="table-wrap">
            <table class="report">
              <thead>
                <tr>
                  <th scope="col">{t.post.snapshot}</th>
                  {FIELDS.map((field) => (
                    <th scope="col">{t.post.figureNames[field]}</th>
                  ))}
                </tr>
              </thead>
              <tbody>
                {figures.snapshots.map((snapshot) => (
                  <tr>
                    <th scope="row">{label(snapshot.window)}</th>
                    {FIELDS.map((field) => (
                      <td>
                        {snapshot[field] === null
                          ? t.reports.notAvailable(t.platform[figures.platform])
                          : numbers.format(snapshot[field])}
                      </td>
                    ))}
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
          {figures.snapshots.some((snapshot) => snapshot.impressions !== null) ? (
            <BarChart
              id={`figures-${figures.deliveryId}`}
              title={t.reports.reach}
              bars={figures.snapshots.map((snapshot) => ({
                label: label(snapshot.window),
                value: snapshot.impressions,
              }))}
              locale={locale}
              unit={t.reports.reach}
            />
          ) : null}
        </>
      )}
      <form method="post" action={`/deliveries/${figures.deliveryId}/metrics/refresh`} class="inline">
        <Csrf />
        <input type="hidden" name="back" value={props.back} />
        <button type="submit" class="button plain">
          {t.post.refreshFigures}
        </button>
      </form>
    </div>
  );
}
