// A real HTTP receiver on 127.0.0.1 standing in for the traffic centre: it checks the signature,
// records every event it acknowledged (with duplicates, in arrival order), and can be stopped and
// restarted on the same port or told to answer with an error status.
import { createHmac, timingSafeEqual } from 'node:crypto';
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { CloudEvent } from '../../appliance/src/core/types.js';

export interface ReceivedRequest {
  headers: IncomingHttpHeaders;
  events: CloudEvent[];
  /** The request body as sent. */
  body: string;
  status: number;
}

/** Decides the answer to one request: a status, optionally with headers. 2xx means acknowledged. */
export type Responder = (events: CloudEvent[], req: ReceivedRequest) => number | { status: number; headers?: Record<string, string> };

export class WebhookReceiver {
  private server: Server | null = null;
  port = 0;
  /** Events of every acknowledged request, in order, duplicates included. */
  readonly acked: CloudEvent[] = [];
  readonly requests: ReceivedRequest[] = [];
  badSignatures = 0;
  responder: Responder = () => 200;

  constructor(private readonly secret?: string) {}

  get url(): string {
    return `http://127.0.0.1:${this.port}/events`;
  }

  async start(): Promise<string> {
    const server = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        const body = Buffer.concat(chunks).toString('utf8');
        if (this.secret) {
          const want = Buffer.from(`sha256=${createHmac('sha256', this.secret).update(body).digest('hex')}`);
          const got = Buffer.from(String(req.headers['x-roadside-signature'] ?? ''));
          if (got.length !== want.length || !timingSafeEqual(got, want)) {
            this.badSignatures++;
            res.writeHead(401).end('bad signature');
            return;
          }
        }
        let events: CloudEvent[];
        try {
          // Batch mode posts an array; structured mode one event.
          const parsed = JSON.parse(body) as CloudEvent[] | CloudEvent;
          events = Array.isArray(parsed) ? parsed : [parsed];
        } catch {
          res.writeHead(400).end('not JSON');
          return;
        }
        const r: ReceivedRequest = { headers: req.headers, events, body, status: 0 };
        const answer = this.responder(events, r);
        const { status, headers } = typeof answer === 'number' ? { status: answer, headers: {} } : answer;
        r.status = status;
        this.requests.push(r);
        if (status >= 200 && status < 300) this.acked.push(...events);
        res.writeHead(status, headers).end();
      });
    });
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(this.port, '127.0.0.1', () => resolve());
    });
    this.port = (server.address() as AddressInfo).port;
    this.server = server;
    return this.url;
  }

  /** Closes the listener and every open connection (keep-alive included): the receiver is down. */
  async stop(): Promise<void> {
    const s = this.server;
    if (!s) return;
    this.server = null;
    s.closeAllConnections();
    await new Promise<void>((resolve) => s.close(() => resolve()));
  }

  /** Acked events with duplicates removed by id (first arrival wins), in arrival order. */
  unique(): CloudEvent[] {
    const seen = new Set<string>();
    return this.acked.filter((e) => (seen.has(e.id) ? false : (seen.add(e.id), true)));
  }
}
