import type { LevelDecisionView } from '../../services/reviews/inbox';
import { useEnv } from '../env';

/** Pieces the inbox and the review page share. */

export function Age(props: { seconds: number }) {
  const { t } = useEnv();
  return <span class="age">{t.inbox.age(props.seconds)}</span>;
}

export function Shortcuts(props: { keys: [string, string][] }) {
  const { t } = useEnv();
  return (
    <details class="shortcuts">
      <summary>{t.shortcuts.title}</summary>
      <dl>
        {props.keys.map(([key, label]) => (
          <>
            <dt>
              <kbd>{key}</kbd>
            </dt>
            <dd>{label}</dd>
          </>
        ))}
      </dl>
    </details>
  );
}

/** What the levels did so far: "Kanwil Kalbar: approved for @kanwilkalbar, forwarded: 'bagus'". */
export function LevelDecisions(props: { decisions: LevelDecisionView[] }) {
  const { t } = useEnv();
  if (props.decisions.length === 0) return null;
  return (
    <ul class="level-decisions" data-decisions>
      {props.decisions.map((d) => {
        const parts: string[] = [];
        if (d.decision === 'approved') parts.push(t.inbox.approvedFor(d.channels.join(', ')));
        if (d.decision === 'passed') parts.push(t.inbox.passed);
        if (d.forwarded)
          parts.push(d.forwardNote ? t.inbox.forwardedNote(d.forwardNote) : t.inbox.forwardedPlain);
        return (
          <li data-level={d.unit.id}>
            <strong>{d.unit.name}</strong>: {parts.join(', ')}
          </li>
        );
      })}
    </ul>
  );
}
