// The catalogue of typed errors: each defined once with a stable code, an HTTP status and a message key (errors namespace).

export interface ErrorSpec {
  readonly status: number;
  /** key in the `errors` namespace, or `ns:key` in another; may use {{interpolation}} with the error's params */
  readonly key: string;
}

export const ERRORS = {
  NOT_FOUND: { status: 404, key: 'notFound' },
  UNAUTHENTICATED: { status: 401, key: 'unauthenticated' },
  FORBIDDEN: { status: 403, key: 'forbidden' },
  CSRF: { status: 403, key: 'csrf' },
  BAD_ORIGIN: { status: 403, key: 'badOrigin' },
  VALIDATION: { status: 400, key: 'validation' },
  BAD_REQUEST: { status: 400, key: 'badRequest' },
  PAYLOAD_TOO_LARGE: { status: 413, key: 'payloadTooLarge' },
  UNSUPPORTED_MEDIA_TYPE: { status: 415, key: 'unsupportedMediaType' },
  METHOD_NOT_ALLOWED: { status: 405, key: 'methodNotAllowed' },
  RATE_LIMITED: { status: 429, key: 'rateLimited' },
  LOGIN_FAILED: { status: 401, key: 'loginFailed' },
  UNAVAILABLE: { status: 503, key: 'unavailable' },
  INTERNAL: { status: 500, key: 'internal' },
  // A way of verifying residents that the commune switched off (setting verification.methods).
  LETTER_OFF: { status: 403, key: 'auth:moving.codeOff' },
  VOUCH_OFF: { status: 403, key: 'auth:vouch.off' },
  COUNTER_OFF: { status: 403, key: 'auth:counter.off' },
} as const satisfies Record<string, ErrorSpec>;

export type ErrorCode = keyof typeof ERRORS;

/** A user-facing error: the central handler renders it in the reader's language. */
export class AppError extends Error {
  readonly code: ErrorCode;
  readonly status: number;
  readonly key: string;
  readonly params: Record<string, unknown>;
  constructor(code: ErrorCode, params: Record<string, unknown> = {}, options?: { cause?: unknown }) {
    super(code, options);
    this.name = 'AppError';
    this.code = code;
    this.status = ERRORS[code].status;
    this.key = ERRORS[code].key;
    this.params = params;
  }
}

export const notFound = () => new AppError('NOT_FOUND');
export const unauthenticated = () => new AppError('UNAUTHENTICATED');
export const forbidden = () => new AppError('FORBIDDEN');

/** An operator-facing error (command line, boot): message, context and help, never a stack trace. */
export class OperatorError extends Error {
  readonly context: string | undefined;
  readonly help: string | undefined;
  constructor(message: string, opts: { context?: string; help?: string; cause?: unknown } = {}) {
    super(message, { cause: opts.cause });
    this.name = 'OperatorError';
    this.context = opts.context;
    this.help = opts.help;
  }
  oneLine(): string {
    return [this.message.replace(/\.$/, ''), this.context, this.help].filter(Boolean).join(' — ');
  }
}
