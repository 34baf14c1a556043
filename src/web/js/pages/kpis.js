// @ts-check
// 考核指标.
import { start } from '../nav.js';

await start('/kpis');
