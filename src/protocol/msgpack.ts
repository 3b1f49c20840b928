import { Packr, Unpackr } from 'msgpackr';

/** The one msgpack encoder of the process: plain arrays and maps, no records or extensions. */
export const packr = new Packr({ useRecords: false, variableMapSize: true });

/** The one msgpack decoder of the process: maps decode to plain objects, no records. */
export const unpackr = new Unpackr({ useRecords: false, mapsAsObjects: true });
