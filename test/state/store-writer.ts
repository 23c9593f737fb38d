// Child process for store.test.ts: hammers one container's state.json.
//   bun store-writer.ts ROOT ID write N   N atomic replacements with a random-size payload
//   bun store-writer.ts ROOT ID update N  N read-modify-write increments under the container lock
//   bun store-writer.ts ROOT ID hold      takes the lock, says "locked", sleeps until killed
import { lockContainer, updateStateFile, writeStateFile } from "../../src/state/store.ts";

const [root, id, mode, count] = process.argv.slice(2) as [string, string, string, string];
const n = Number(count);

if (mode === "write") {
  for (let seq = 0; seq < n; seq++) {
    const pad = "x".repeat(Math.floor(Math.random() * 256 * 1024));
    writeStateFile(root, id, { writer: process.pid, seq, padLength: pad.length, pad });
  }
} else if (mode === "update") {
  for (let i = 0; i < n; i++) {
    await updateStateFile<{ count: number; seen: string[] }>(root, id, (s) => ({ count: s.count + 1, seen: [...s.seen, `${process.pid}:${i}`] }));
  }
} else if (mode === "hold") {
  await lockContainer(root, id);
  process.stdout.write("locked\n");
  await Bun.sleep(60_000);
}
