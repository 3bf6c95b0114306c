/** Cuts a byte stream of raw frames (rgb24) into whole frames, whatever the chunking of the pipe. */
export class FrameAssembler {
  private buf: Buffer;
  private filled = 0;

  constructor(readonly frameBytes: number) {
    this.buf = Buffer.allocUnsafe(frameBytes);
  }

  /** Feeds a chunk; calls onFrame for every completed frame with a buffer the callee owns. */
  push(chunk: Buffer, onFrame: (frame: Buffer) => void): void {
    let offset = 0;
    while (offset < chunk.length) {
      const n = Math.min(this.frameBytes - this.filled, chunk.length - offset);
      chunk.copy(this.buf, this.filled, offset, offset + n);
      this.filled += n;
      offset += n;
      if (this.filled === this.frameBytes) {
        const done = this.buf;
        this.buf = Buffer.allocUnsafe(this.frameBytes);
        this.filled = 0;
        onFrame(done);
      }
    }
  }

  reset(): void {
    this.filled = 0;
  }
}
