// While the client works on a later host, the first host is probed with a bare TCP connect every
// `intervalMs`; the first answer is reported once (the client then returns to it when no
// request is in flight). At most one probe socket exists at a time.
import net from 'node:net';
import type { HostSpec } from '../config/hosts.js';

export class PrimaryProbe {
  private timer: NodeJS.Timeout | undefined;
  private socket: net.Socket | undefined;

  constructor(private readonly primary: HostSpec, private readonly intervalMs: number,
    private readonly connectTimeoutMs: number, private readonly onAnswer: () => void) {}

  get running(): boolean {
    return this.timer !== undefined;
  }

  start(): void {
    this.stop();
    this.timer = setInterval(() => this.probe(), this.intervalMs);
    // The connection keeps the process alive; the probe alone must not.
    this.timer.unref();
  }

  stop(): void {
    clearInterval(this.timer);
    this.timer = undefined;
    this.socket?.destroy();
    this.socket = undefined;
  }

  private probe(): void {
    if (this.socket) return;
    const socket = net.connect({ host: this.primary.host, port: this.primary.port });
    this.socket = socket;
    const timer = setTimeout(() => socket.destroy(), this.connectTimeoutMs);
    timer.unref();
    socket.on('error', () => { /* a failed probe is expected while the first host is down */ });
    socket.once('connect', () => {
      socket.destroy();
      if (this.socket !== socket) return;
      // One answer is enough: stop probing, and let the client decide when to go back.
      clearInterval(this.timer);
      this.timer = undefined;
      this.socket = undefined;
      this.onAnswer();
    });
    socket.once('close', () => {
      clearTimeout(timer);
      if (this.socket === socket) this.socket = undefined;
    });
  }
}
