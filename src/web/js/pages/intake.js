// @ts-check
// 受理登记.
import { start } from '../nav.js';

await start('/intake');
