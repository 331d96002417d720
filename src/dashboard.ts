import './ui/dashboard';
