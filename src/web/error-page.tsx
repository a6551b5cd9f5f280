import type { AppError } from '../domain/errors';
import { useEnv } from './env';
import { Layout } from './layout';
import { problemText } from './page';

/** The page for what cannot be shown: not found, not allowed, a stale form, or our own failure. */
export function ErrorPage(props: { status: number; error: AppError | null }) {
  const { t } = useEnv();
  const title =
    props.status === 404
      ? t.errorPage.notFound
      : props.status === 403
        ? t.errorPage.forbidden
        : props.status >= 500
          ? t.errorPage.failed
          : t.errorPage.badRequest;
  const detail = props.status < 500 && props.error ? problemText(t, props.error) : null;
  return (
    <Layout title={title}>
      {detail ? <p>{detail}</p> : null}
      <p>
        <a href="/">{t.errorPage.home}</a>
      </p>
    </Layout>
  );
}
