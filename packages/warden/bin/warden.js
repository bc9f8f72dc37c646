#!/bin/sh
":" //; exec node --max-semi-space-size=32 "$0" "$@"
import { main } from '../dist/cli/index.js';

main(process.argv).catch((err) => {
  process.stderr.write(`warden: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exit(1);
});
