// The deep-linking response goes back to the platform at once; the button is there
// for a browser that runs no scripts.
document.getElementById("lti-deep-link-return").submit();
