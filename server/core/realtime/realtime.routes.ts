// GET /ws: one WebSocket per tab, authenticated by the session cookie at upgrade, subscribed to the channels its user may read.
import type { FastifyInstance } from 'fastify';
import { closeSocket } from './realtime.service.ts';

const MAX_FRAME = 4096;

export default async function realtimeRoutes(app: FastifyInstance) {
  app.get('/ws', { websocket: true, config: { access: 'authenticated' } }, (socket, req) => {
    const origin = req.headers.origin;
    if (origin && !app.isOwnOrigin(req, origin)) {
      closeSocket(socket, 1008, 'origin');
      return;
    }
    const channels = [`u:${req.user!.id}`, ...req.memberships.filter((m) => m.verified).map((m) => `n:${m.neighborhoodId}`)];
    app.realtime.add(socket, req.session!.id, channels);
    // Clients only listen; anything they send beyond a ping closes that socket alone.
    socket.on('message', (data: Buffer, isBinary: boolean) => {
      if (isBinary || data.length > MAX_FRAME) closeSocket(socket, 1009, 'frame');
    });
  });
}
