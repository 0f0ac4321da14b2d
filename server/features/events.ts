// The typed event bus: listeners run after the emitting transaction commits; a failing listener is logged, never rethrown.
import { AsyncLocalStorage } from 'node:async_hooks';
import type { FastifyBaseLogger } from 'fastify';

/** Core events a feature plugin may listen to; later areas add theirs here. */
export interface CoreEvents {
  'user.created': { userId: string };
  /** the account was erased at its holder's request: plugins erase what they keep about the user */
  'user.deleted': { userId: string };
  'member.verified': { userId: string; neighborhoodId: string };
  'board.post.created': { postId: string; neighborhoodId: string; authorId: string };
  'feature.switched': { featureId: string; scope: string; enabled: boolean };
}
export type EventName = keyof CoreEvents;

/** The same names at run time, so a manifest listening to a misspelt event fails at boot instead of never firing. */
export const CORE_EVENT_NAMES = ['user.created', 'user.deleted', 'member.verified', 'board.post.created', 'feature.switched'] as const satisfies readonly EventName[];
type Missing = Exclude<EventName, (typeof CORE_EVENT_NAMES)[number]>;
const allListed: Missing extends never ? true : never = true;
void allListed;
export type Listener<E extends EventName> = (payload: CoreEvents[E]) => void | Promise<void>;

interface Registered {
  name: EventName;
  fn: Listener<any>;
  owner: string;
  /** false: skipped (e.g. the owning plugin is switched off where the event happened) */
  active: (payload: any) => boolean;
}

const pendingStore = new AsyncLocalStorage<Array<[EventName, unknown]>>();

export class EventBus {
  private readonly listeners = new Map<EventName, Registered[]>();
  private readonly inFlight = new Set<Promise<void>>();

  constructor(private readonly log: FastifyBaseLogger) {}

  on<E extends EventName>(name: E, fn: Listener<E>, owner = 'core', active: (payload: CoreEvents[E]) => boolean = () => true): void {
    const list = this.listeners.get(name) ?? [];
    list.push({ name, fn, owner, active });
    this.listeners.set(name, list);
  }

  /** Inside `deferUntilCommit` the event waits for the commit (and is dropped on rollback); elsewhere it is delivered now. */
  emit<E extends EventName>(name: E, payload: CoreEvents[E]): void {
    const pending = pendingStore.getStore();
    if (pending) pending.push([name, payload]);
    else this.deliver(name, payload);
  }

  /** Runs fn (a transaction) and delivers the events it emitted only when it resolved. */
  async deferUntilCommit<T>(fn: () => Promise<T>): Promise<T> {
    if (pendingStore.getStore()) return fn(); // nested: the outer transaction delivers
    const pending: Array<[EventName, unknown]> = [];
    const result = await pendingStore.run(pending, fn);
    for (const [name, payload] of pending) this.deliver(name, payload as never);
    return result;
  }

  private deliver<E extends EventName>(name: E, payload: CoreEvents[E]): void {
    for (const l of this.listeners.get(name) ?? []) {
      const run = (async () => {
        try {
          await Promise.resolve(); // never inside the emitter's call stack: a throwing listener cannot reach it
          if (!l.active(payload)) return;
          await l.fn(payload);
        } catch (err) {
          this.log.error({ err, event: name, plugin: l.owner }, `listener of ${name} in ${l.owner} failed`);
        }
      })();
      this.inFlight.add(run);
      void run.finally(() => this.inFlight.delete(run));
    }
  }

  /** Waits for the listeners already started (graceful shutdown, tests). */
  async drain(): Promise<void> {
    while (this.inFlight.size) await Promise.all([...this.inFlight]);
  }
}
