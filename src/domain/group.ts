/** The longest name a group may have, in characters: a group's own rule, and an import's for the groups a row names. */
export const GROUP_NAME_MAX = 100;
