// One central error handler: localized HTML error pages, {"error":{code,message}} for JSON clients, no stack traces, 5xx logged with the request id.
import fp from 'fastify-plugin';
import type { FastifyError, FastifyReply, FastifyRequest } from 'fastify';
import type { Lang } from '../config.ts';
import { AppError, type ErrorCode } from '../errors.ts';
import type { I18n } from './i18n.ts';

export function wantsJson(req: FastifyRequest): boolean {
  const accept = req.headers.accept ?? '';
  return accept.includes('application/json') && !accept.includes('text/html');
}

function toAppError(err: FastifyError | AppError | Error): AppError {
  if (err instanceof AppError) return err;
  const e = err as FastifyError & { statusCode?: number };
  if (e.validation) return new AppError('VALIDATION', { detail: e.message });
  const byStatus: Record<number, ErrorCode> = {
    400: 'BAD_REQUEST', 401: 'UNAUTHENTICATED', 403: 'FORBIDDEN', 404: 'NOT_FOUND', 405: 'METHOD_NOT_ALLOWED',
    413: 'PAYLOAD_TOO_LARGE', 415: 'UNSUPPORTED_MEDIA_TYPE', 429: 'RATE_LIMITED', 503: 'UNAVAILABLE',
  };
  const code = e.statusCode && e.statusCode < 500 ? (byStatus[e.statusCode] ?? 'BAD_REQUEST') : e.statusCode === 503 ? 'UNAVAILABLE' : 'INTERNAL';
  return new AppError(code, {}, { cause: err });
}

export default fp(
  async (app, opts: { i18n: I18n; defaultLang: Lang }) => {
    const send = async (err: AppError, req: FastifyRequest, reply: FastifyReply) => {
      const lang = req.lang ?? opts.defaultLang;
      const t = req.t ?? opts.i18n.getFixedT(lang);
      const message = String(t(err.key.includes(':') ? err.key : `errors:${err.key}`, err.params as never));
      reply.code(err.status);
      if (err.code === 'RATE_LIMITED' && typeof err.params.count === 'number') reply.header('Retry-After', String(err.params.count));
      if (wantsJson(req)) return reply.type('application/json; charset=utf-8').send({ error: { code: err.code, message } });
      try {
        return await reply.render('views/pages/error', {
          title: String(t(`errors:title.${err.status}`, { defaultValue: String(t('errors:title.generic')) })),
          status: err.status,
          message,
          requestId: err.status >= 500 ? req.id : undefined,
          showLogin: err.status === 401,
          next: req.method === 'GET' ? req.url : '/',
          // A query parameter of its own: the address's own ?a=1&b=2 must survive inside /login?next=...
          loginNext: encodeURIComponent(req.method === 'GET' ? req.url : '/'),
        }, err.status);
      } catch (renderErr) {
        // The page itself cannot be built (database gone?): plain text, still no stack trace.
        req.log.error({ err: renderErr }, 'error page failed to render');
        return reply.type('text/plain; charset=utf-8').send(`${err.status} ${message}`);
      }
    };

    app.setErrorHandler(async (error: FastifyError, req, reply) => {
      const appErr = toAppError(error);
      if (appErr.status >= 500) req.log.error({ err: error, reqId: req.id }, 'request failed');
      else req.log.debug({ code: appErr.code }, 'request refused');
      return send(appErr, req, reply);
    });

    app.setNotFoundHandler(async (req, reply) => send(new AppError('NOT_FOUND'), req, reply));
  },
  { name: 'noper-errors' },
);
