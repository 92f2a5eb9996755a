// The drift sweep as both functions that run it build it (sweep-drift for the daily and
// CloudTrail-triggered sweeps, provision-access for the scheduled re-check): mode and grace from the
// bundled config, never the environment, so the two cannot disagree. First sightings come in as a
// port: the functions give the access table's store (DynamoDriftSeenStore), tests an in-memory one.
import { type DriftSweepDeps, makeDriftSweep } from '#app/grants/drift.ts';

export type ConfiguredDriftSweepDeps = Omit<DriftSweepDeps, 'driftMode' | 'graceMs'>;

export function buildDriftSweep(deps: ConfiguredDriftSweepDeps) {
  return makeDriftSweep({
    ...deps,
    driftMode: deps.catalog.config.drift.mode,
    graceMs: deps.catalog.config.drift.graceMs,
  });
}
