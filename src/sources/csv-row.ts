/**
 * One row of a CSV file (RFC 4180): fields separated by commas, a field in double quotes may hold
 * commas and doubled quotes (`""`). A row is one line: a quoted field that does not end on its line
 * is refused (the item reader reads pages by line, so a field cannot span lines).
 */
export class CsvRowError extends Error {
  override name = 'CsvRowError';
}

export function parseCsvRow(line: string): string[] {
  const fields: string[] = [];
  let i = 0;
  for (;;) {
    if (line[i] === '"') {
      let value = '';
      i += 1;
      for (;;) {
        const quote = line.indexOf('"', i);
        if (quote < 0) throw new CsvRowError('a quoted field is not closed on its line (fields cannot span lines)');
        value += line.slice(i, quote);
        if (line[quote + 1] === '"') {
          value += '"';
          i = quote + 2;
          continue;
        }
        i = quote + 1;
        break;
      }
      if (i < line.length && line[i] !== ',')
        throw new CsvRowError(`text after a closing quote at character ${i + 1} (quote the whole field)`);
      fields.push(value);
    } else {
      const comma = line.indexOf(',', i);
      const value = comma < 0 ? line.slice(i) : line.slice(i, comma);
      if (value.includes('"'))
        throw new CsvRowError(`a quote inside an unquoted field at character ${i + value.indexOf('"') + 1}`);
      fields.push(value);
      i = comma < 0 ? line.length : comma;
    }
    if (i >= line.length) return fields;
    i += 1; // the comma
    if (i === line.length) {
      fields.push('');
      return fields;
    }
  }
}
