// Builds a Snapshot from a fixture scenario through the real collectors and model.

import { readHugepages } from '../../src/collect/hugepages.js';
import { readProcess } from '../../src/collect/process.js';
import { readTelemetry } from '../../src/collect/telemetry.js';
import { buildMachineHugepages, buildProcess } from '../../src/model/build.js';
import { SCHEMA_VERSION, type DpdkProcess, type Snapshot } from '../../src/model/snapshot.js';
import { SCENARIOS, fixtureHost, replayTelemetry, type Scenario } from './fixtures.js';

export async function fixtureProcess(scenario: Scenario): Promise<DpdkProcess> {
  const host = fixtureHost(scenario);
  const pid = SCENARIOS[scenario];
  const telemetry = await readTelemetry(replayTelemetry(scenario));
  const process = await readProcess(host, pid);
  const prefix = scenario.startsWith('testpmd') ? 'gztp' : 'gazelle';
  return buildProcess({ process, telemetry, socketPath: `/var/run/dpdk/${prefix}/dpdk_telemetry.v2`, socketPrefix: prefix });
}

export async function fixtureSnapshot(scenario: Scenario): Promise<Snapshot> {
  const host = fixtureHost(scenario);
  return {
    schemaVersion: SCHEMA_VERSION,
    takenAt: host.now().toISOString(),
    durationMs: 0,
    hostname: 'fixture',
    hugepages: buildMachineHugepages(await readHugepages(host), []),
    processes: [await fixtureProcess(scenario)],
    orphans: null,
  };
}
