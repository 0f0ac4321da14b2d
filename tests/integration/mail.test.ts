// E-mail goes through real SMTP when SMTP_URL is set, else into DATA_DIR/outbox as .eml files.
import fs from 'node:fs';
import path from 'node:path';
import t from 'tap';
import { SMTPServer } from 'smtp-server';
import { MailService } from '../../server/core/mail/mail.service.ts';
import { build } from '../helpers/app.ts';

t.test('without SMTP_URL an e-mail is written to the outbox as an .eml file', async (t) => {
  const { app, config } = await build(t);
  await app.mail.send({ to: 'resident@example.lu', subject: 'Moien', text: 'Wëllkomm bei Noper' });
  const dir = path.join(config.dataDir, 'outbox');
  const files = fs.readdirSync(dir).filter((f) => f.endsWith('.eml'));
  t.equal(files.length, 1);
  const eml = fs.readFileSync(path.join(dir, files[0]!), 'utf8');
  t.match(eml, /To: resident@example\.lu/);
  t.match(eml, /Subject: Moien/);
});

t.test('with SMTP_URL an e-mail is delivered to the SMTP server', async (t) => {
  const received: string[] = [];
  const server = new SMTPServer({
    authOptional: true,
    disabledCommands: ['STARTTLS'],
    onData(stream, _session, cb) {
      let data = '';
      stream.on('data', (c: Buffer) => (data += c.toString()));
      stream.on('end', () => {
        received.push(data);
        cb();
      });
    },
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  t.teardown(() => new Promise<void>((r) => server.close(() => r())));
  const port = (server.server.address() as { port: number }).port;
  const mail = new MailService({ smtpUrl: `smtp://127.0.0.1:${port}`, dataDir: '/nonexistent', mailFrom: 'Noper <noreply@example.lu>' });
  t.teardown(() => mail.close());
  await mail.send({ to: 'nopesch@example.lu', subject: 'Är Nopeschaft', text: 'Moien aus der Gemeng' });
  t.equal(received.length, 1);
  t.match(received[0]!, /To: nopesch@example\.lu/);
  t.match(received[0]!, /From: Noper <noreply@example\.lu>/);
  t.equal(mail.outbox, undefined, 'no outbox when SMTP is configured');
});
