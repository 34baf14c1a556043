// @ts-check
// 案件检索.
import { start } from '../nav.js';

await start('/search');
