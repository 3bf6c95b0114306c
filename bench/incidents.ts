// `npx tsx bench/run.ts incidents`: the incident rules measured like an AID system.
// 1. False alarms: every clean shared clip (none shows an incident; queues at signals, people on a
//    zebra, parked cars are normal traffic), recorded once with the demo config's detector and each
//    looped to an hour of video, played end to end through the real pipeline at the default rules with
//    the camera geometry drawn by eye (bench/ground-truth/incidents/clean-clips.json).
// 2. Detection: scenario replays of recorded real detections, edited by a committed script
//    (bench/ground-truth/incidents/scenarios.json, test/helpers/incident-scenarios.ts), with the ground
//    truth that follows from each edit: detection rate and mean time to detect per kind, and the
//    near-misses (queue at a stop line, bus at its stop, parked car, identity swap, roll-back, close
//    merge) that must stay silent.
import { INCIDENT_KINDS } from '../appliance/src/core/types.js';
import { buildScenario, loadScenarioSpecs, runScenario, scoreScenario, type ScenarioScore } from '../test/helpers/incident-scenarios.js';
import { runCleanClips } from '../test/helpers/clean-clip-incidents.js';

export async function runScenarios(): Promise<ScenarioScore[]> {
  const out: ScenarioScore[] = [];
  for (const spec of loadScenarioSpecs()) {
    const sc = buildScenario(spec);
    out.push(scoreScenario(sc, await runScenario(sc)));
  }
  return out;
}

const r1 = (v: number) => Math.round(v * 10) / 10;

export async function runIncidentsBench(): Promise<{ summary: string[] } & Record<string, unknown>> {
  // An hour of video per clip: nine camera-hours of normal traffic.
  const clean = await runCleanClips((s) => console.log(`  ${s}`), 3600);
  const scenarios = await runScenarios();
  const hours = clean.reduce((s, c) => s + c.videoSeconds, 0) / 3600;
  const cleanAlarms = clean.reduce((s, c) => s + c.incidents.length, 0);
  const scenarioAlarms = scenarios.reduce((s, c) => s + c.falseAlarms.length, 0);
  const perKind = INCIDENT_KINDS.map((kind) => {
    const all = scenarios.flatMap((s) => s.detected.filter((d) => d.kind === kind));
    const hits = all.filter((d) => d.delayS !== null).map((d) => d.delayS as number);
    const fa = clean.reduce((s, c) => s + c.incidents.filter((i) => i.kind === kind).length, 0);
    return {
      kind,
      labelled: all.length,
      detected: hits.length,
      detectionRate: all.length ? hits.length / all.length : null,
      meanTimeToDetectS: hits.length ? r1(hits.reduce((a, b) => a + b, 0) / hits.length) : null,
      falseAlarmsPerCameraHour: r1(fa / hours),
    };
  });
  const silent = scenarios.filter((s) => s.detected.length === 0);
  const summary = [
    `false alarms on clean footage: ${cleanAlarms} in ${r1(hours)} camera-hours of video (${clean.length} clips looped) = ${r1(cleanAlarms / hours)} per camera-hour`,
    ...clean.map((c) => `${c.clip}: ${c.videoSeconds} s (${c.loops} loops), ${c.incidents.length} incidents${c.incidents.length ? ` ${JSON.stringify(c.incidents.slice(0, 5))}` : ''}`),
    `scenario replays: ${scenarios.length}; normal-traffic near-misses silent: ${silent.filter((s) => s.falseAlarms.length === 0).length}/${silent.length}; false alarms in scenarios: ${scenarioAlarms}`,
    '',
    '| kind | labelled | detected | detection rate | mean time to detect (s) | false alarms / camera-hour (clean) |',
    '|---|---|---|---|---|---|',
    ...perKind.map((k) => `| ${k.kind} | ${k.labelled} | ${k.detected} | ${k.detectionRate === null ? '-' : `${Math.round(k.detectionRate * 100)} %`} | ${k.meanTimeToDetectS ?? '-'} | ${k.falseAlarmsPerCameraHour} |`),
    '',
    ...scenarios.map((s) => `${s.name}: ${s.detected.map((d) => `${d.kind} ${d.delayS === null ? 'MISSED' : `in ${r1(d.delayS)} s`}`).join(', ') || 'silent expected'}${s.falseAlarms.length ? `; false alarms ${JSON.stringify(s.falseAlarms)}` : ''}`),
  ];
  return { summary, cameraHours: r1(hours * 100) / 100, cleanFalseAlarms: cleanAlarms, scenarioFalseAlarms: scenarioAlarms, perKind, clean, scenarios };
}
