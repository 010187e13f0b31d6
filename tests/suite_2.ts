/** Share 2 of the test suite (see tests/suite.ts). */
import { loadShare } from "./suite.ts";

await loadShare(2, 4);
