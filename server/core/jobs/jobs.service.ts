// The one scheduler of Noper: durable job rows, cron schedules (croner), retries with backoff, one claim per job across processes.
import { Cron } from 'croner';
import type { FastifyBaseLogger } from 'fastify';
import type { Db, Job } from '../../db/database.ts';
import { forClaim, type Engine } from '../../db/dialect.ts';
import { newId, randomToken } from '../../ids.ts';

export type JobHandler = (payload: any, job: Job) => Promise<void> | void;

export interface ScheduleOptions {
  /** epoch ms; default now */
  runAt?: number;
  /** a job with the same key is scheduled only once, ever */
  key?: string;
  maxAttempts?: number;
}

const LOCK_MS = 5 * 60 * 1000;
const backoff = (attempt: number) => Math.min(60 * 60 * 1000, 30_000 * 2 ** (attempt - 1));

export class JobService {
  private readonly handlers = new Map<string, JobHandler>();
  private readonly crons = new Map<string, Cron>();
  private readonly worker = `w-${randomToken(6)}`;
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<void> | undefined;
  private stopped = true;
  private halted = false;

  constructor(
    private readonly db: Db,
    private readonly engine: Engine,
    private readonly log: FastifyBaseLogger,
    private readonly timeZone: string,
    private readonly pollMs = 1000,
  ) {}

  define(name: string, handler: JobHandler): void {
    if (this.handlers.has(name)) throw new Error(`job ${name} is defined twice`);
    this.handlers.set(name, handler);
  }

  /** Schedules a run; returns false when a job with the same idempotency key exists already. */
  async schedule(name: string, payload: unknown = {}, opts: ScheduleOptions = {}): Promise<boolean> {
    const now = Date.now();
    const res = await this.db
      .insertInto('jobs')
      .values({
        id: newId(), name, payload: JSON.stringify(payload ?? {}), run_at: opts.runAt ?? now, idempotency_key: opts.key ?? null,
        max_attempts: opts.maxAttempts ?? 5, last_error: null, locked_by: null, locked_until: null, done_at: null, failed_at: null, created_at: now,
      })
      .onConflict((oc) => oc.column('idempotency_key').doNothing())
      .executeTakeFirst();
    return Number(res.numInsertedOrUpdatedRows ?? 0) > 0;
  }

  /** A recurring job on a cron expression in the commune's time zone; each occurrence is one idempotent row. */
  every(name: string, cron: string, handler: JobHandler): void {
    const c = new Cron(cron, { timezone: this.timeZone, paused: true });
    this.crons.set(name, c);
    this.define(name, async (payload, job) => {
      try {
        await handler(payload, job);
      } finally {
        // After this occurrence (its key names it), even if it ran late or was retried.
        const occurrence = Number(job.idempotency_key?.split(':').pop()) || job.run_at;
        await this.scheduleNext(name, occurrence + 1);
      }
    });
  }

  private async scheduleNext(name: string, after: number): Promise<void> {
    const next = this.crons.get(name)?.nextRun(new Date(Math.max(after, Date.now())));
    if (next) await this.schedule(name, {}, { runAt: next.getTime(), key: `cron:${name}:${next.getTime()}` });
  }

  async start(): Promise<void> {
    this.stopped = false;
    this.halted = false;
    for (const name of this.crons.keys()) await this.scheduleNext(name, Date.now());
    const loop = () => {
      if (this.stopped) return;
      this.running = this.runDue()
        .then(() => undefined)
        .catch((err) => this.log.error({ err }, 'job runner failed'))
        .finally(() => {
          this.running = undefined;
          if (!this.stopped) this.timer = setTimeout(loop, this.pollMs).unref();
        });
    };
    this.timer = setTimeout(loop, this.pollMs).unref();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    this.halted = true;
    if (this.timer) clearTimeout(this.timer);
    await this.running;
  }

  /** Claims one due job so that no other process can take it; undefined when none is due. */
  private async claim(now: number): Promise<Job | undefined> {
    return this.db.transaction().execute(async (trx) => {
      const due = await forClaim(
        this.engine,
        trx
          .selectFrom('jobs')
          .select('id')
          .where('done_at', 'is', null)
          .where('failed_at', 'is', null)
          .where('run_at', '<=', now)
          .where((eb) => eb.or([eb('locked_until', 'is', null), eb('locked_until', '<', now)]))
          .orderBy('run_at')
          .limit(1),
      ).executeTakeFirst();
      if (!due) return undefined;
      return trx
        .updateTable('jobs')
        .set((eb) => ({ locked_by: this.worker, locked_until: now + LOCK_MS, attempts: eb('attempts', '+', 1) }))
        .where('id', '=', due.id)
        .returningAll()
        .executeTakeFirst();
    });
  }

  /** Runs every job that is due now (the loop calls it; so can a test or a command). Returns how many ran. */
  async runDue(limit = 100): Promise<number> {
    let n = 0;
    for (; n < limit; n++) {
      if (this.halted) break; // shutting down: the rest waits for the next start
      const now = Date.now();
      const job = await this.claim(now);
      if (!job) break;
      const handler = this.handlers.get(job.name);
      try {
        if (!handler) throw new Error(`no handler for job ${job.name}`);
        await handler(JSON.parse(job.payload), job);
        await this.db.updateTable('jobs').set({ done_at: Date.now(), locked_by: null, locked_until: null, last_error: null }).where('id', '=', job.id).execute();
      } catch (err) {
        const message = err instanceof Error ? err.message : String(err);
        const final = job.attempts >= job.max_attempts;
        this.log.error({ err, job: job.name, attempt: job.attempts }, final ? 'job failed for good' : 'job failed, will retry');
        await this.db
          .updateTable('jobs')
          .set(final ? { failed_at: Date.now(), last_error: message, locked_by: null, locked_until: null } : { run_at: Date.now() + backoff(job.attempts), last_error: message, locked_by: null, locked_until: null })
          .where('id', '=', job.id)
          .execute();
      }
    }
    return n;
  }
}
