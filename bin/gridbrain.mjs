#!/usr/bin/env node
// The `gridbrain` command. The CLI is TypeScript run through tsx's loader, so there is no build
// step between editing oracle/src and running it.
import { register } from "tsx/esm/api";

register();
await import("../oracle/src/cli.ts");
