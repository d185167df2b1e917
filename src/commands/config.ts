// `cfx-miner config --print`: the effective settings as configured (not as mining would adjust
// them), secrets masked, with the source of each value.
import type { LoadedConfig } from '../config/load.js';
import { maskedSettings } from '../config/schema.js';

export async function configCommand(loaded: LoadedConfig, out: NodeJS.WritableStream): Promise<number> {
  const settings = maskedSettings(loaded.settings);
  // Unset optional settings are left out of `settings` (JSON.stringify drops undefined);
  // `sources` still names every key, so what was left out is visible there as "default".
  const shown = JSON.stringify({ settings, sources: loaded.sources, configFile: loaded.configPath }, null, 2);
  out.write(shown + '\n');
  for (const w of loaded.warnings) process.stderr.write(`cfx-miner: warning: ${w}\n`);
  return 0;
}
