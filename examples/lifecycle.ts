// The library, no CLI: create a container, start it, exec into it, read its state, stop it and
// delete it — what `bunrunc create/start/exec/state/kill/delete` do, as function calls.
//
//   bun examples/lifecycle.ts [--root DIR]        (as root)
import { create, del, exec, kill, start, state, BunruncError } from "bunrunc";
import { workspace } from "./busybox.ts";

const ws = workspace();
const id = `lifecycle-${process.pid}`;
try {
  const bundle = ws.bundle("box", ["sleep", "600"]);
  const created = await create({ root: ws.root, id, bundle });
  console.log(`created ${id}: init pid ${created.pid}, status ${state({ root: ws.root, id }).status}`);
  await start({ root: ws.root, id });
  console.log(`started: ${state({ root: ws.root, id }).status}`);

  // exec runs a second process in the container and returns its exit code; its output goes
  // to ours.
  const code = await exec({ root: ws.root, id, args: ["sh", "-c", "echo hello from $(hostname); exit 7"] });
  console.log(`exec exited ${code}`);

  // A library error is a BunruncError: a code and the one line the CLI would print.
  try {
    await start({ root: ws.root, id });
  } catch (e) {
    if (!(e instanceof BunruncError)) throw e;
    console.log(`start again: ${e.code}: ${e.message}`);
  }

  kill({ root: ws.root, id, signal: "KILL" });
  for (let i = 0; i < 100 && state({ root: ws.root, id }).status !== "stopped"; i++) await Bun.sleep(50);
  console.log(`killed: ${state({ root: ws.root, id }).status}`);
} finally {
  await del({ root: ws.root, id, force: true }).catch(() => {});
  ws.done();
}
console.log("deleted");
