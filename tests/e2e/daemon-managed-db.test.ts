import { daemonSuite } from '../support/daemon-suite.js';

daemonSuite('managed');
