// bunrunc's entry: one call (src/cli/dispatch.ts), then exit. Kept tiny and lazy on purpose:
// every import here is paid by every `create`/`start` (docs: FINDINGS.md). Started by a front
// (zig/front.zig) with BUNRUNC_SERVE and no arguments, it is the resident server instead.
import { phase } from "./base/timing.ts";
import { dispatch, messageOf } from "./cli/dispatch.ts";
import { logFailure } from "./log.ts";

const servePath = process.env.BUNRUNC_SERVE;
if (servePath && process.argv.length <= 2 && !process.argv[1]?.endsWith(".ts")) {
  import("./server/serve.ts").then((m) => m.serve(servePath));
} else {
  dispatch(process.argv.slice(2)).then(
    (code) => {
      phase("exit");
      // This process's own spawner waits in-process: never a Handback here.
      process.exit(typeof code === "number" ? code : 1);
    },
    (e) => {
      logFailure(messageOf(e));
      process.exit(1);
    },
  );
}
