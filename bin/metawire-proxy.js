#!/usr/bin/env node
// Launcher for the harness's TCP proxy CLI (built by `npm run build:host` into dist/).
import { run } from "../dist/test/host/cli.js";

await run();
