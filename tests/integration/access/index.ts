import { orgTable } from './org';
import type { AnyAccessTable } from './table';

/** Every access table; a new resource adds its table file here. */
export const ACCESS_TABLES: AnyAccessTable[] = [orgTable];
