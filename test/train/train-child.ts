// Runs `train` with the flags given as JSON, for the test that kills a training process (train.test.ts).
import { selectBackend } from '../../lib/backend/index.js';
import { train } from '../../lib/train/index.js';

await selectBackend();
await train({ flags: JSON.parse(process.argv[2]) });
