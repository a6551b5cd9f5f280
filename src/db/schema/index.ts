export * from './blackouts';
export * from './channels';
export * from './deliveries';
export * from './media';
export * from './org';
export * from './posts';
export * from './sources';
