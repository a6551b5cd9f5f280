export * from './blackouts';
export * from './channels';
export * from './deliveries';
export * from './feeds';
export * from './media';
export * from './org';
export * from './posts';
