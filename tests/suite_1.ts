/** Share 1 of the test suite (see tests/suite.ts). */
import { loadShare } from "./suite.ts";

await loadShare(1, 4);
