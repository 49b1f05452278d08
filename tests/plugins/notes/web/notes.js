window.notesLoaded = true;
