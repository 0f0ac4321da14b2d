// Sends e-mail through SMTP (nodemailer), or writes .eml files to DATA_DIR/outbox when no SMTP server is configured.
import fs from 'node:fs/promises';
import path from 'node:path';
import nodemailer, { type Transporter } from 'nodemailer';
import type { Config } from '../../config.ts';
import { newId } from '../../ids.ts';

export interface MailMessage {
  to: string;
  subject: string;
  text: string;
  html?: string;
  headers?: Record<string, string>;
}

export class MailService {
  private readonly transport: Transporter;
  readonly outbox: string | undefined;

  constructor(private readonly config: Pick<Config, 'smtpUrl' | 'dataDir' | 'mailFrom'>) {
    if (config.smtpUrl) {
      this.transport = nodemailer.createTransport(config.smtpUrl);
      this.outbox = undefined;
    } else {
      this.transport = nodemailer.createTransport({ streamTransport: true, buffer: true, newline: 'unix' });
      this.outbox = path.join(config.dataDir, 'outbox');
    }
  }

  async send(msg: MailMessage): Promise<void> {
    const info = await this.transport.sendMail({ from: this.config.mailFrom, ...msg });
    if (this.outbox) {
      await fs.mkdir(this.outbox, { recursive: true });
      await fs.writeFile(path.join(this.outbox, `${newId()}.eml`), (info as unknown as { message: Buffer }).message);
    }
  }

  close(): void {
    this.transport.close();
  }
}
