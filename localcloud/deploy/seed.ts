/** Loads the demo data into the deployed tables. */
export async function seedDemoData(_endpoint: string, _outputs: Record<string, string>): Promise<void> {}
