/** Share 0 of the test suite (see tests/suite.ts). */
import { loadShare } from "./suite.ts";

await loadShare(0, 4);
