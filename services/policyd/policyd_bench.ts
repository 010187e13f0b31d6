import { logd } from "../logd/main.ts";
import { runService } from "../testing/rig.ts";
import { policyd } from "./main.ts";
import { policyCheck } from "./protocol.ts";

const GRANTS = [{ subject: "client", caps: ["statefs.read"] }];

Deno.bench("policyd: 200 CHECK round trips on the simulated kernel, audited to logd", async () => {
  await runService(policyd, {
    peers: [{ module: logd }],
    config: { grants: GRANTS },
    client: async (sys, slots) => {
      for (let i = 0; i < 200; i++) {
        await policyCheck(sys, slots.policyd, slots.reply, "statefs.read");
      }
    },
  });
});
