// Child process for the kill -9 test: saves the config through the real ConfigStore, over and over,
// with a large `appliance.site` so each atomic save spends a while writing its temp file.
import { loadConfigFile } from '../../appliance/src/config/load.js';
import { ConfigStore } from '../../appliance/src/config/store.js';

const path = process.argv[2]!;
const store = new ConfigStore(loadConfigFile(path), path, async () => {});
const big = 'x'.repeat(Number(process.argv[3] ?? 8_000_000));
process.send?.('ready');
for (let i = 0; ; i++) await store.update((d) => void (d.appliance.site = `${i}-${big}`));
