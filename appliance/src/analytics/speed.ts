// Camera-wide spot speeds per interval: every vehicle track seen with a calibrated speed gives one
// sample, the mean of its speed estimates within the interval; mean and 85th percentile over those.
import type { DomainEvent } from '../core/types.js';
import type { SpeedIntervalData } from '../core/event-data.js';
import { binFields, type Bin } from './bins.js';
import { mean, percentile } from './geometry.js';
import type { TrackView } from './types.js';

export class SpeedStats {
  private readonly acc = new Map<number, Map<number, { sum: number; n: number }>>();

  observeFrame(tracks: TrackView[]): void {
    for (const tv of tracks) {
      if (tv.status !== 'confirmed' || !tv.isVehicle || tv.speedKmh === null) continue;
      for (const m of this.acc.values()) {
        const s = m.get(tv.id);
        if (s) {
          s.sum += tv.speedKmh;
          s.n++;
        } else m.set(tv.id, { sum: tv.speedKmh, n: 1 });
      }
    }
  }

  openBin(binSeconds: number): void {
    if (!this.acc.has(binSeconds)) this.acc.set(binSeconds, new Map());
  }

  closeBin(cameraId: string, bin: Bin): DomainEvent<SpeedIntervalData> {
    const m = this.acc.get(bin.binSeconds) ?? new Map<number, { sum: number; n: number }>();
    this.acc.delete(bin.binSeconds);
    const samples = [...m.values()].map((s) => s.sum / s.n);
    return {
      type: 'speed.interval',
      cameraId,
      timeMs: bin.endMs,
      data: { ...binFields(cameraId, bin), meanSpeedKmh: mean(samples), p85SpeedKmh: percentile(samples, 85), samples: samples.length },
    };
  }
}
