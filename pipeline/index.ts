// The application layer: the lifecycle steps as typed functions, the resolved settings they
// take, the potentials a process loads, and the one-process path. The CLI, the bench drivers
// and the activities all compute through here.
export * from './steps.js';
export * from './settings.js';
export * from './potentials.js';
export * from './run-one.js';
