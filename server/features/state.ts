// Which feature plugin is on where: rows of feature_state cached in memory, refreshed when another process changes them.
import type { Db } from '../db/database.ts';
import type { DbHandle } from '../db/dialect.ts';
import { notifyPeers } from '../db/dialect.ts';
import { newId } from '../ids.ts';
import type { FeatureDefinition, SettingSpec } from './manifest.ts';

export const COMMUNE = 'commune';
export const PEER_CHANNEL = 'noper_cache';
/** Without a notification, the cache is re-read at most this long after a change (PostgreSQL safety net). */
const MAX_AGE_MS = 5000;

interface Row {
  enabled: boolean;
  settings: Record<string, unknown>;
}

export class FeatureState {
  private rows = new Map<string, Row>(); // `${feature}|${scope}`
  private loadedAt = 0;
  private dataVersion = -1;
  private dirty = true;
  private loading: Promise<void> | undefined;
  readonly defs: Map<string, FeatureDefinition>;

  constructor(
    private readonly handle: DbHandle,
    defs: FeatureDefinition[],
  ) {
    this.defs = new Map(defs.map((d) => [d.manifest.id, d]));
  }

  private get db(): Db {
    return this.handle.db;
  }

  /** Marks the cache stale (a peer said so, or a listener reconnected). */
  invalidate(): void {
    this.dirty = true;
  }

  /** Re-reads the table when it may have changed: SQLite's data_version moved, a peer notified us, or it is old. */
  async refresh(): Promise<void> {
    if (this.handle.dataVersion) {
      const v = this.handle.dataVersion();
      if (v !== this.dataVersion) {
        this.dataVersion = v;
        this.dirty = true;
      }
    } else if (Date.now() - this.loadedAt > MAX_AGE_MS) {
      this.dirty = true;
    }
    if (!this.dirty) return;
    this.loading ??= this.load().finally(() => (this.loading = undefined));
    await this.loading;
  }

  private async load(): Promise<void> {
    // Cleared before the query (a change during it marks dirty again) and restored if the query fails.
    this.dirty = false;
    let rows;
    try {
      rows = await this.db.selectFrom('feature_state').selectAll().execute();
    } catch (err) {
      this.dirty = true;
      throw err;
    }
    const next = new Map<string, Row>();
    for (const r of rows) next.set(`${r.feature_id}|${r.scope}`, { enabled: r.enabled === 1, settings: r.settings ? JSON.parse(r.settings) : {} });
    this.rows = next;
    this.loadedAt = Date.now();
  }

  /** On for this neighbourhood (its override, else the commune's switch, else the manifest default) and its dependencies too. */
  isEnabled(id: string, neighborhoodId?: string, path: ReadonlySet<string> = new Set()): boolean {
    const def = this.defs.get(id);
    // `path` holds the plugins on the way here only: two plugins may share a dependency (a diamond) without harm.
    if (!def || path.has(id)) return false;
    const seen = new Set(path).add(id);
    const local = neighborhoodId ? this.rows.get(`${id}|${neighborhoodId}`) : undefined;
    const commune = this.rows.get(`${id}|${COMMUNE}`);
    const communeOn = commune ? commune.enabled : def.manifest.defaultEnabled;
    // A neighbourhood may switch off what the commune allows, never switch on what the commune switched off.
    const on = communeOn && (local ? local.enabled : true);
    return on && (def.manifest.dependencies ?? []).every((dep) => this.isEnabled(dep, neighborhoodId, seen));
  }

  /** The commune-wide switch alone. */
  communeEnabled(id: string): boolean {
    const row = this.rows.get(`${id}|${COMMUNE}`);
    return row ? row.enabled : (this.defs.get(id)?.manifest.defaultEnabled ?? false);
  }

  /** The plugin's settings: manifest defaults, overridden commune-wide, then per neighbourhood. */
  settings(id: string, neighborhoodId?: string): Record<string, unknown> {
    const specs: Record<string, SettingSpec> = this.defs.get(id)?.manifest.settings ?? {};
    const out: Record<string, unknown> = {};
    for (const [k, s] of Object.entries(specs)) out[k] = s.default;
    Object.assign(out, this.rows.get(`${id}|${COMMUNE}`)?.settings ?? {});
    if (neighborhoodId) Object.assign(out, this.rows.get(`${id}|${neighborhoodId}`)?.settings ?? {});
    return out;
  }

  /** Validates values against the manifest's settings and stores them (commune-wide or for one neighbourhood). Returns the problems, empty when saved. */
  async setSettings(id: string, values: Record<string, unknown>, opts: { scope?: string; actorId?: string | null } = {}): Promise<string[]> {
    const specs: Record<string, SettingSpec> = this.defs.get(id)?.manifest.settings ?? {};
    const problems: string[] = [];
    const clean: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(values)) {
      const spec = specs[k];
      if (!spec) {
        problems.push(`${k}: unknown setting`);
        continue;
      }
      if (spec.type === 'boolean' && typeof v !== 'boolean') problems.push(`${k}: expected true or false`);
      else if (spec.type === 'integer' && (!Number.isInteger(v) || (spec.min !== undefined && (v as number) < spec.min) || (spec.max !== undefined && (v as number) > spec.max)))
        problems.push(`${k}: expected a whole number${spec.min !== undefined ? ` from ${spec.min}` : ''}${spec.max !== undefined ? ` to ${spec.max}` : ''}`);
      else if (spec.type === 'string' && (typeof v !== 'string' || (spec.maxLength !== undefined && v.length > spec.maxLength) || (spec.enum && !spec.enum.includes(v))))
        problems.push(`${k}: expected ${spec.enum ? `one of ${spec.enum.join(', ')}` : 'a text'}`);
      else clean[k] = v;
    }
    if (problems.length) return problems;
    const scope = opts.scope ?? COMMUNE;
    const now = Date.now();
    await this.db.transaction().execute(async (trx) => {
      const row = await trx.selectFrom('feature_state').select(['settings', 'enabled']).where('feature_id', '=', id).where('scope', '=', scope).executeTakeFirst();
      const merged = JSON.stringify({ ...(row?.settings ? JSON.parse(row.settings) : {}), ...clean });
      const enabled = row ? row.enabled : scope === COMMUNE ? (this.communeEnabled(id) ? 1 : 0) : 1;
      await trx
        .insertInto('feature_state')
        .values({ feature_id: id, scope, enabled, settings: merged, updated_at: now, updated_by: opts.actorId ?? null })
        .onConflict((oc) => oc.columns(['feature_id', 'scope']).doUpdateSet({ settings: merged, updated_at: now, updated_by: opts.actorId ?? null }))
        .execute();
      await trx
        .insertInto('audit_log')
        .values({ id: newId(), at: now, actor_id: opts.actorId ?? null, action: 'feature.settings', subject: id, detail: JSON.stringify({ scope, ...clean }) })
        .execute();
    });
    await notifyPeers(this.db, this.handle.engine, PEER_CHANNEL, 'feature_state');
    await this.reload();
    return [];
  }

  /** Switches a plugin on or off (commune-wide or for one neighbourhood), logs it, and tells the other processes. */
  async set(id: string, enabled: boolean, opts: { scope?: string; actorId?: string | null } = {}): Promise<void> {
    if (!this.defs.has(id)) throw new Error(`unknown feature plugin ${id}`);
    const scope = opts.scope ?? COMMUNE;
    const now = Date.now();
    await this.db.transaction().execute(async (trx) => {
      await trx
        .insertInto('feature_state')
        .values({ feature_id: id, scope, enabled: enabled ? 1 : 0, settings: null, updated_at: now, updated_by: opts.actorId ?? null })
        .onConflict((oc) => oc.columns(['feature_id', 'scope']).doUpdateSet({ enabled: enabled ? 1 : 0, updated_at: now, updated_by: opts.actorId ?? null }))
        .execute();
      await trx
        .insertInto('audit_log')
        .values({ id: newId(), at: now, actor_id: opts.actorId ?? null, action: enabled ? 'feature.enable' : 'feature.disable', subject: id, detail: JSON.stringify({ scope }) })
        .execute();
    });
    await notifyPeers(this.db, this.handle.engine, PEER_CHANNEL, 'feature_state');
    await this.reload();
    this.onSwitch?.({ featureId: id, scope, enabled });
  }

  /** Reads the table again now, after any load already under way (which may predate our own write). */
  private async reload(): Promise<void> {
    await this.loading;
    this.dirty = true;
    await this.refresh();
  }

  /** Told of every switch made through this process (the app emits `feature.switched`). */
  onSwitch: ((e: { featureId: string; scope: string; enabled: boolean }) => void) | undefined;
}
