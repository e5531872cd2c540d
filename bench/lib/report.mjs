export function writeReport(){}
