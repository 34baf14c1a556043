// @ts-check
// 趋势与预警.
import { start } from '../nav.js';

await start('/trends');
