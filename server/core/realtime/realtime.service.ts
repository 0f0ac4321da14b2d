// Fans live htmx out-of-band fragments out to the sockets subscribed to a channel, in this process and (PostgreSQL) in its peers.
import type { FastifyBaseLogger } from 'fastify';
import type { WebSocket } from 'ws';
import type { DbHandle } from '../../db/dialect.ts';
import { notifyPeers } from '../../db/dialect.ts';

export const REALTIME_CHANNEL = 'noper_realtime';
/** NOTIFY payloads must stay under 8000 bytes. */
const MAX_PEER_PAYLOAD = 7800;

interface Client {
  socket: WebSocket;
  sessionId: string;
  channels: string[];
}

export class RealtimeService {
  private readonly byChannel = new Map<string, Set<Client>>();
  private readonly clients = new Set<Client>();
  private readonly origin = Math.random().toString(36).slice(2);

  constructor(
    private readonly handle: DbHandle,
    private readonly log: FastifyBaseLogger,
  ) {}

  get connections(): number {
    return this.clients.size;
  }

  add(socket: WebSocket, sessionId: string, channels: string[]): void {
    const client: Client = { socket, sessionId, channels };
    this.clients.add(client);
    for (const c of channels) {
      let set = this.byChannel.get(c);
      if (!set) this.byChannel.set(c, (set = new Set()));
      set.add(client);
    }
    socket.on('close', () => this.remove(client));
  }

  private remove(client: Client): void {
    this.clients.delete(client);
    for (const c of client.channels) {
      const set = this.byChannel.get(c);
      set?.delete(client);
      if (set && set.size === 0) this.byChannel.delete(c);
    }
  }

  private local(channel: string, html: string): number {
    let n = 0;
    for (const client of this.byChannel.get(channel) ?? []) {
      if (client.socket.readyState === client.socket.OPEN) {
        client.socket.send(html);
        n++;
      }
    }
    return n;
  }

  /** Sends the fragment to every socket of the channel, here and in every other process on the database. */
  async publish(channel: string, html: string): Promise<void> {
    this.local(channel, html);
    const payload = JSON.stringify({ o: this.origin, c: channel, h: html });
    if (Buffer.byteLength(payload) <= MAX_PEER_PAYLOAD) await notifyPeers(this.handle.db, this.handle.engine, REALTIME_CHANNEL, payload);
    else this.log.warn({ channel, bytes: Buffer.byteLength(payload) }, 'live fragment too large for peers; they catch up on reload');
  }

  /** A message from a peer process: a fragment for a channel, or a session that ended there. */
  fromPeer(raw: string): void {
    try {
      const m = JSON.parse(raw) as { o: string; c?: string; h?: string; end?: string };
      if (m.o === this.origin) return;
      if (m.end) this.closeLocal(m.end);
      else if (m.c && m.h !== undefined) this.local(m.c, m.h);
    } catch (err) {
      this.log.warn({ err }, 'unreadable realtime peer message');
    }
  }

  /** Closes the sockets of a session that ended (logout), in this process and in its peers. */
  async closeSession(sessionId: string): Promise<void> {
    this.closeLocal(sessionId);
    await notifyPeers(this.handle.db, this.handle.engine, REALTIME_CHANNEL, JSON.stringify({ o: this.origin, end: sessionId }));
  }

  private closeLocal(sessionId: string): void {
    for (const c of this.clients) if (c.sessionId === sessionId) closeSocket(c.socket, 4001, 'session ended');
  }

  /**
   * Closes sockets whose session ended without a logout here: expired, ended by another process on SQLite,
   * or its user disabled. `alive` returns which of the given session ids are still valid.
   */
  async sweep(alive: (sessionIds: string[]) => Promise<Set<string>>): Promise<number> {
    const ids = [...new Set([...this.clients].map((c) => c.sessionId))];
    if (!ids.length) return 0;
    const valid = await alive(ids);
    let closed = 0;
    for (const id of ids) {
      if (!valid.has(id)) {
        this.closeLocal(id);
        closed++;
      }
    }
    return closed;
  }

  closeAll(): void {
    for (const c of this.clients) closeSocket(c.socket, 1001, 'server shutting down');
  }
}

/** A close frame, then the socket is cut if the peer does not answer it soon (ws would wait 30 s and hold the process). */
export function closeSocket(socket: WebSocket, code: number, reason: string): void {
  socket.close(code, reason);
  setTimeout(() => {
    if (socket.readyState !== socket.CLOSED) socket.terminate();
  }, 1000).unref();
}
