// The scenarios in the order `npm run chaos` runs them (issue 6, item 2).
import type { ChaosScenario } from '../scenario.js';
import { addDeletedPod } from './add-deleted-pod.js';
import { apiserverRestart, etcdRestart } from './control-plane-restart.js';
import { delFailures } from './del-failures.js';
import { duplicateAdd } from './duplicate-add.js';
import { leaderKill } from './leader-kill.js';
import { nodePowerOff } from './node-poweroff.js';
import { poolEdits } from './pool-edits.js';

export const SCENARIOS: ChaosScenario[] = [leaderKill, apiserverRestart, etcdRestart, nodePowerOff, delFailures, duplicateAdd, addDeletedPod, poolEdits];
