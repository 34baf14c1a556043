// @ts-check
// 案件.
import { start } from '../nav.js';

await start('/case');
