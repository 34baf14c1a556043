// @ts-check
// `/` sends each role to the page it works on first (sign-in when nobody is signed in).
import { start, home } from './nav.js';

const me = await start('/');
location.replace(home(me));
