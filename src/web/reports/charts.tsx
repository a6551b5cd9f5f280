import { scaleBand, scaleLinear, scalePoint } from 'd3-scale';
import { line } from 'd3-shape';

/**
 * Charts drawn on the server as SVG: readable without JavaScript, printable in black and white
 * (dark strokes, direct labels with the numbers, no meaning carried by colour alone), and each
 * followed by a table with the same numbers for screen readers and for copying.
 */

export interface ChartPoint {
  label: string;
  value: number | null;
}

const WIDTH = 640;
const FONT = 12;

const formatNumber = (locale: string) => new Intl.NumberFormat(locale === 'id' ? 'id-ID' : 'en-GB');

/** A line over the weeks; a week without a figure leaves a gap rather than a false zero. */
export function LineChart(props: {
  id: string;
  title: string;
  points: ChartPoint[];
  locale: string;
  unit: string;
}) {
  const height = 200;
  const margin = { top: 24, right: 16, bottom: 36, left: 16 };
  const x = scalePoint<string>()
    .domain(props.points.map((point) => point.label))
    .range([margin.left + 24, WIDTH - margin.right - 24]);
  const max = Math.max(1, ...props.points.map((point) => point.value ?? 0));
  const y = scaleLinear()
    .domain([0, max])
    .nice()
    .range([height - margin.bottom, margin.top]);
  const path = line<ChartPoint>()
    .defined((point) => point.value !== null)
    .x((point) => x(point.label) ?? 0)
    .y((point) => y(point.value ?? 0))(props.points);
  const format = formatNumber(props.locale);
  return (
    <figure class="chart" aria-labelledby={`${props.id}-title`}>
      <figcaption id={`${props.id}-title`}>{props.title}</figcaption>
      <svg
        viewBox={`0 0 ${WIDTH} ${height}`}
        role="img"
        aria-labelledby={`${props.id}-title`}
        preserveAspectRatio="xMidYMid meet"
      >
        <title>{props.title}</title>
        <line
          class="axis"
          x1={margin.left}
          x2={WIDTH - margin.right}
          y1={y(0)}
          y2={y(0)}
          stroke="currentColor"
          stroke-width="1"
        />
        {path ? <path d={path} fill="none" stroke="currentColor" stroke-width="2.5" /> : null}
        {props.points.map((point, i) => {
          const cx = x(point.label) ?? 0;
          // At most about eight axis labels, so a quarter's weeks stay readable on a phone.
          const labelled = i % Math.ceil(props.points.length / 8) === 0;
          return (
            <g>
              {point.value === null ? null : (
                <>
                  <circle cx={cx} cy={y(point.value)} r="4" fill="currentColor" />
                  <text x={cx} y={y(point.value) - 8} text-anchor="middle" font-size={FONT}>
                    {format.format(point.value)}
                  </text>
                </>
              )}
              {labelled ? (
                <text x={cx} y={height - 12} text-anchor="middle" font-size={FONT}>
                  {point.label}
                </text>
              ) : null}
            </g>
          );
        })}
      </svg>
      <ChartTable
        head={[props.unit]}
        rows={props.points.map((point) => [point.label, point.value])}
        locale={props.locale}
      />
    </figure>
  );
}

/** Horizontal bars, largest first, each labelled with its name and number. */
export function BarChart(props: {
  id: string;
  title: string;
  bars: ChartPoint[];
  locale: string;
  unit: string;
}) {
  const bars = props.bars.filter((bar) => bar.value !== null);
  const rowHeight = 26;
  const labelWidth = 200;
  const height = Math.max(rowHeight, bars.length * rowHeight) + 8;
  const y = scaleBand<string>()
    .domain(bars.map((_bar, i) => `${i}`))
    .range([4, height - 4])
    .padding(0.2);
  const max = Math.max(1, ...bars.map((bar) => bar.value ?? 0));
  const x = scaleLinear()
    .domain([0, max])
    .range([0, WIDTH - labelWidth - 90]);
  const format = formatNumber(props.locale);
  return (
    <figure class="chart" aria-labelledby={`${props.id}-title`}>
      <figcaption id={`${props.id}-title`}>{props.title}</figcaption>
      <svg viewBox={`0 0 ${WIDTH} ${height}`} role="img" aria-labelledby={`${props.id}-title`}>
        <title>{props.title}</title>
        {bars.map((bar, i) => {
          const top = y(`${i}`) ?? 0;
          const w = x(bar.value ?? 0);
          return (
            <g>
              <text x={labelWidth - 8} y={top + y.bandwidth() / 2 + 4} text-anchor="end" font-size={FONT}>
                {bar.label.length > 30 ? `${bar.label.slice(0, 29)}…` : bar.label}
              </text>
              <rect
                x={labelWidth}
                y={top}
                width={Math.max(1, w)}
                height={y.bandwidth()}
                fill="currentColor"
                fill-opacity="0.35"
                stroke="currentColor"
                stroke-width="1"
              />
              <text x={labelWidth + w + 6} y={top + y.bandwidth() / 2 + 4} font-size={FONT}>
                {format.format(bar.value ?? 0)}
              </text>
            </g>
          );
        })}
      </svg>
      <ChartTable
        head={[props.unit]}
        rows={bars.map((bar) => [bar.label, bar.value])}
        locale={props.locale}
      />
    </figure>
  );
}

function ChartTable(props: { head: string[]; rows: Array<[string, number | null]>; locale: string }) {
  const format = formatNumber(props.locale);
  return (
    <table class="chart-table">
      <thead>
        <tr>
          <th scope="col" />
          {props.head.map((head) => (
            <th scope="col">{head}</th>
          ))}
        </tr>
      </thead>
      <tbody>
        {props.rows.map(([label, value]) => (
          <tr>
            <th scope="row">{label}</th>
            <td class="num">{value === null ? '—' : format.format(value)}</td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}
